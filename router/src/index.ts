export { startRouter } from "./app.ts";
export { routerEnvSchema } from "./env.ts";
export { composeSupergraph } from "./supergraph.ts";
export { SUBGRAPHS, SUPERGRAPH_FILE } from "./subgraphs.ts";
