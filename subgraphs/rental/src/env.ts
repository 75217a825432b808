import { subgraphEnvSchema, type SubgraphEnv } from "@rentcar/platform";

/** Rental subgraph settings (PORT defaults to 4003). */
export const rentalEnvSchema = subgraphEnvSchema("rental", 4003);
export type RentalEnv = SubgraphEnv;
