import { subgraphEnvSchema, type SubgraphEnv } from "@rentcar/platform";

/** Payment subgraph settings (PORT defaults to 4002). */
export const paymentEnvSchema = subgraphEnvSchema("payment", 4002);
export type PaymentEnv = SubgraphEnv;
