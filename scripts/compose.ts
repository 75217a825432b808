/**
 * `npm run compose`: composes the subgraph SDLs into router/supergraph.graphql.
 * `npm run compose -- --check`: exits 1 when the committed file is stale.
 * Either way, composition errors or hints fail the command.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { composeSupergraph, SUPERGRAPH_FILE } from "@rentcar/router";

const check = process.argv.includes("--check");
const { supergraphSdl, errors, hints } = composeSupergraph();
for (const hint of hints) console.error(`hint: ${hint}`);
if (!supergraphSdl || errors.length > 0) {
  console.error(`composition failed:\n${errors.map((e) => `  - ${e}`).join("\n")}`);
  process.exit(1);
}
if (hints.length > 0) {
  console.error("composition produced hints; fix the subgraph SDLs so it composes cleanly");
  process.exit(1);
}
const path = fileURLToPath(SUPERGRAPH_FILE);
const committed = (() => { try { return readFileSync(path, "utf8"); } catch { return ""; } })();
if (check) {
  if (committed !== supergraphSdl) {
    console.error(`${path} is stale: run \`npm run compose\` and commit the result`);
    process.exit(1);
  }
  console.log(`${path} is up to date`);
} else if (committed === supergraphSdl) {
  console.log(`${path} unchanged`);
} else {
  writeFileSync(path, supergraphSdl);
  console.log(`wrote ${path}`);
}
