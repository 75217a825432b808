import { createPrismaAdapter } from "@rentcar/db";
import { startSubgraphService, type HttpService } from "@rentcar/platform";
import type { ReservationContext } from "./context.ts";
import type { ReservationEnv } from "./env.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { createLoaders } from "./loaders.ts";
import { createPaymentClient } from "./payment-client.ts";
import { seedRateCard } from "./rate-card-seed.ts";
import type { ReservationDeps } from "./reservations.ts";
import { resolvers } from "./resolvers.ts";

/** SDL of the reservation subgraph (also read by `npm run compose`). */
export const reservationTypeDefsUrl = new URL("schema.graphql", import.meta.url);

/** Starts the reservation subgraph: seeds the rate card, then serves `/graphql` on `env.PORT`. */
export async function startReservationSubgraph(env: ReservationEnv): Promise<HttpService> {
  const db = new PrismaClient({ adapter: createPrismaAdapter(env.DATABASE_URL, { max: env.DATABASE_POOL_MAX }) });
  const deps: ReservationDeps = {
    db,
    payments: createPaymentClient({ url: env.PAYMENT_URL, timeoutMs: env.PAYMENT_TIMEOUT_MS, internalSecret: env.INTERNAL_SECRET }),
    limits: { maxRentalDays: env.MAX_RENTAL_DAYS, bookingHorizonDays: env.BOOKING_HORIZON_DAYS },
  };
  return startSubgraphService<ReservationContext>({
    name: "reservation",
    env,
    typeDefs: reservationTypeDefsUrl,
    resolvers,
    db,
    extendContext: (base) => ({ ...base, deps, loaders: createLoaders(db) }),
    beforeListen: async (log) => log.info({ cars: await seedRateCard(db) }, "rate card seeded"),
  });
}
