// graphql-codegen: typed documents for the app from the committed schema.graphql and the shared
// operations of clients/operations/ (which also form clients/trusted-documents.json). A document
// that does not validate against the schema fails here, and so fails `npm run build` and
// tests/web/test_build.py.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["../clients/operations/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        strictScalars: true,
        scalars: { Date: "string", DateTime: "string", JSON: "unknown" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
