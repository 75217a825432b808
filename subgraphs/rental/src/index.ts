export { rentalTypeDefsUrl, startRentalSubgraph } from "./app.ts";
export { rentalEnvSchema } from "./env.ts";
