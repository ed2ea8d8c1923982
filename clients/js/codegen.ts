// graphql-codegen: TypeScript types (and typed documents) for the operations of clients/operations/,
// from the committed SDL. `npm run codegen`; tests/clients/test_codegen.py runs it, then `tsc --strict`.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["../operations/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "./src/gql/": {
      preset: "client",
      config: {
        // Every scalar the schema declares is named here; an unknown one fails the build.
        strictScalars: true,
        scalars: { Date: "string", DateTime: "string", JSON: "unknown" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
