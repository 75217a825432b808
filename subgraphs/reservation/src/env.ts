import { mutationSafetyEnv, refuseTestOnlySettingsInProduction, subgraphEnvSchema, z } from "@rentcar/platform";

/** Reservation subgraph settings (PORT defaults to 4001). */
export const reservationEnvSchema = subgraphEnvSchema("reservation", 4001).extend({
  ...mutationSafetyEnv,
  /** The payment subgraph, called directly (not through the router) to register payments. */
  PAYMENT_URL: z.url().default("http://127.0.0.1:4002/graphql"),
  /** Timeout of the synchronous payment registration, in ms. */
  PAYMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(600),
  /** Consecutive payment-call failures that open the circuit breaker. */
  PAYMENT_BREAKER_THRESHOLD: z.coerce.number().int().positive().default(5),
  /** How long the open breaker waits before a trial call (half-open), in ms. */
  PAYMENT_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(5_000),
  /** Longest rental, in days. */
  MAX_RENTAL_DAYS: z.coerce.number().int().positive().default(30),
  /** How far ahead a pickup may be booked, in days. */
  BOOKING_HORIZON_DAYS: z.coerce.number().int().positive().default(365),
}).superRefine(refuseTestOnlySettingsInProduction);

export type ReservationEnv = z.infer<typeof reservationEnvSchema>;
