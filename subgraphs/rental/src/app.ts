import { createDatabasePool, createPrismaAdapter, createSqlClient } from "@rentcar/db";
import { startEventBus, type EventBus } from "@rentcar/events";
import { createLogger, createMetrics, databasePoolOptions, transactionOptions, ISSUER, PUBLIC_API, startSubgraphService, type HttpService, type InternalAccessPolicy } from "@rentcar/platform";
import type { RentalContext } from "./context.ts";
import type { RentalEnv } from "./env.ts";
import { rentalEventHandlers } from "./event-handlers.ts";
import { seedFleet } from "./fleet-seed.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { createLoaders } from "./loaders.ts";
import type { RentalDeps } from "./rentals.ts";
import { createReservationClient } from "./reservation-client.ts";
import { resolvers } from "./resolvers.ts";

/** SDL of the rental subgraph (also read by `npm run compose`). */
export const rentalTypeDefsUrl = new URL("schema.graphql", import.meta.url);

/** Who may call rental with an internal token: the router (public API for a customer) and the projection rebuild (read statuses). */
export const RENTAL_CALLERS: InternalAccessPolicy = {
  [ISSUER.router]: PUBLIC_API,
  [ISSUER.projectionRebuild]: ["_entities"],
};

/** Starts the rental subgraph: seeds the fleet, serves `/graphql` on `env.PORT`, runs its outbox relay and event consumer. */
export async function startRentalSubgraph(env: RentalEnv): Promise<HttpService> {
  const metrics = createMetrics("rental");
  // One pool: Prisma for the API, plain SQL (no Prisma per call) for the event consumer and relay.
  const pool = createDatabasePool(env.DATABASE_URL, databasePoolOptions(env, metrics));
  const db = new PrismaClient({ adapter: createPrismaAdapter(pool), transactionOptions: transactionOptions(env) });
  const sql = createSqlClient(pool, { transactionMaxWaitMs: env.DATABASE_TX_MAX_WAIT_MS });
  let bus: EventBus | undefined;
  const deps: RentalDeps = {
    db,
    claims: createReservationClient({
      url: env.RESERVATION_URL,
      timeoutMs: env.RESERVATION_TIMEOUT_MS,
      breakerThreshold: env.RESERVATION_BREAKER_THRESHOLD,
      halfOpenAfterMs: env.RESERVATION_BREAKER_HALF_OPEN_MS,
      internalSecret: env.INTERNAL_SECRET,
      log: createLogger("rental", env.LOG_LEVEL).child({ component: "reservation-client" }),
      registry: metrics.registry,
    }),
  };
  return startSubgraphService<RentalContext>({
    name: "rental",
    env,
    typeDefs: rentalTypeDefsUrl,
    callers: RENTAL_CALLERS,
    resolvers,
    db,
    metrics,
    extendContext: (base) => ({ ...base, db, deps, loaders: createLoaders(db), published: () => bus?.relay.kick() }),
    beforeListen: async (log) => log.info({ cars: await seedFleet(db) }, "fleet seeded"),
    startWorkers: (log) => (bus = startEventBus({
      name: "rental", db: sql, handlers: rentalEventHandlers(log), redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, log, lockDurationMs: env.EVENT_LOCK_MS,
      outboxRetentionMs: env.OUTBOX_RETENTION,
        concurrency: env.EVENT_CONCURRENCY, broadcasts: false, // only reservation writes MyReservationChanged
        sagaClaims: true, // two statements per published batch, no transaction (nothing here reads available_at)
    })),
  });
}
