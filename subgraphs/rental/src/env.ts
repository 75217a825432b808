import { subgraphEnvSchema, z } from "@rentcar/platform";

/** Rental subgraph settings (PORT defaults to 4003). */
export const rentalEnvSchema = subgraphEnvSchema("rental", 4003).extend({
  /** The reservation subgraph, called directly (not through the router) to claim a pick-up. */
  RESERVATION_URL: z.url().default("http://127.0.0.1:4001/graphql"),
  /** Timeout of the synchronous pick-up claim, in ms. */
  RESERVATION_TIMEOUT_MS: z.coerce.number().int().positive().default(1_000),
  /** Consecutive claim failures (reservation down or slow) that open the circuit breaker. */
  RESERVATION_BREAKER_THRESHOLD: z.coerce.number().int().positive().default(5),
  /** How long the open breaker waits before a trial call (half-open), in ms. */
  RESERVATION_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(5_000),
});

export type RentalEnv = z.infer<typeof rentalEnvSchema>;
