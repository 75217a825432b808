/**
 * `npm run compose`: composes the subgraph SDLs into router/supergraph.graphql and its
 * copy k8s/base/router/supergraph.graphql (kustomize reads files only inside its base).
 * `npm run compose -- --check`: exits 1 when either committed file is stale.
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
const targets = [fileURLToPath(SUPERGRAPH_FILE), fileURLToPath(new URL("../k8s/base/router/supergraph.graphql", import.meta.url))];
let stale = false;
for (const path of targets) {
  const committed = (() => { try { return readFileSync(path, "utf8"); } catch { return ""; } })();
  if (committed === supergraphSdl) {
    console.log(`${path} is up to date`);
  } else if (check) {
    console.error(`${path} is stale: run \`npm run compose\` and commit the result`);
    stale = true;
  } else {
    writeFileSync(path, supergraphSdl);
    console.log(`wrote ${path}`);
  }
}
if (stale) process.exit(1);
