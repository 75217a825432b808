import { mutationSafetyEnv, refuseTestOnlySettingsInProduction, subgraphEnvSchema, type z } from "@rentcar/platform";

/** Payment subgraph settings (PORT defaults to 4002). */
export const paymentEnvSchema = subgraphEnvSchema("payment", 4002).extend(mutationSafetyEnv).superRefine(refuseTestOnlySettingsInProduction);
export type PaymentEnv = z.infer<typeof paymentEnvSchema>;
