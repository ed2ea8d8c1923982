// Builds web/dist/ (committed: `make run` needs no Node): codegen from schema.graphql, a strict
// type check, then one esbuild bundle. `node build.mjs --out DIR` writes elsewhere
// (tests/web/test_build.py rebuilds into a temporary directory and compares with web/dist/).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";

const outIndex = process.argv.indexOf("--out");
const out = outIndex > 0 ? process.argv[outIndex + 1] : "dist";
const bin = (name) => join("node_modules", ".bin", name);

execFileSync(bin("graphql-codegen"), ["--config", "codegen.ts", "--silent"], { stdio: "inherit" });
execFileSync(bin("tsc"), ["--noEmit", "-p", "tsconfig.json"], { stdio: "inherit" });
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: ["src/main.tsx"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  define: { "globalThis.__DEV__": "false" },
  outfile: join(out, "app.js"),
  logLevel: "warning",
});
copyFileSync("src/index.html", join(out, "index.html"));
copyFileSync("src/app.css", join(out, "app.css"));
