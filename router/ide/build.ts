/**
 * Bundles the GraphiQL page (ide/main.js: graphiql, React, graphql-ws) with esbuild into
 * src/generated/ide/{graphiql.js,graphiql.css}, which src/ide.ts serves. Run by
 * `npm run generate` (turbo), so the router never loads anything from a CDN.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const outdir = fileURLToPath(new URL("../src/generated/ide/", import.meta.url));
await build({
  entryPoints: { graphiql: fileURLToPath(new URL("./main.js", import.meta.url)) },
  bundle: true,
  format: "iife",
  minify: true,
  target: "es2022",
  outdir,
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".svg": "dataurl", ".png": "dataurl" },
  legalComments: "linked",
  logLevel: "warning",
});
console.log(`GraphiQL bundled into ${outdir}`);
