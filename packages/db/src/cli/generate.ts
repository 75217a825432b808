// `tsx ../../packages/db/src/cli/generate.ts <subgraph>`, run by each subgraph's `generate` script.
import { generateClient } from "../generate-client.ts";
import { parseSubgraphName, schemaPathFor } from "../paths.ts";
import { runMain } from "./run-main.ts";

await runMain(async () => generateClient(schemaPathFor(parseSubgraphName(process.argv[2] ?? ""))));
