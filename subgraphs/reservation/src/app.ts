import { createDatabasePool, createPrismaAdapter, createSqlClient } from "@rentcar/db";
import { startEventBus, type EventBus } from "@rentcar/events";
import {
  closeAll, crashAfterCommit, createIdempotency, createLogger, createMetrics, databasePoolOptions, transactionOptions, ISSUER, PUBLIC_API, startIdempotencyPruner,
  startSubgraphService, type HttpService, type InternalAccessPolicy,
} from "@rentcar/platform";
import type { ReservationContext } from "./context.ts";
import type { ReservationEnv } from "./env.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { laneWrittenByHandler, reservationEventHandlers } from "./event-handlers.ts";
import { createLoaders } from "./loaders.ts";
import { createPaymentClient } from "./payment-client.ts";
import { seedRateCard } from "./rate-card-seed.ts";
import type { ReservationDeps } from "./reservations.ts";
import { resolvers } from "./resolvers.ts";

/** SDL of the reservation subgraph (also read by `npm run compose`). */
export const reservationTypeDefsUrl = new URL("schema.graphql", import.meta.url);

/**
 * Who may call reservation with an internal token: the router (public API for a customer)
 * and rental (the internal pick-up claim, `claimPickUp`, only).
 */
export const RESERVATION_CALLERS: InternalAccessPolicy = {
  [ISSUER.router]: PUBLIC_API,
  [ISSUER.rental]: ["claimPickUp"],
};

/** Starts the reservation subgraph: seeds the rate card, serves `/graphql` on `env.PORT`, runs its outbox relay and event consumer. */
export async function startReservationSubgraph(env: ReservationEnv): Promise<HttpService> {
  const metrics = createMetrics("reservation");
  // One pool: Prisma for reads and rare writes, plain SQL (no Prisma per call) for the saga's hot path.
  const pool = createDatabasePool(env.DATABASE_URL, databasePoolOptions(env, metrics));
  const db = new PrismaClient({ adapter: createPrismaAdapter(pool), transactionOptions: transactionOptions(env) });
  const sql = createSqlClient(pool, { transactionMaxWaitMs: env.DATABASE_TX_MAX_WAIT_MS });
  let bus: EventBus | undefined;
  const deps: ReservationDeps = {
    db,
    sql,
    payments: createPaymentClient({
      url: env.PAYMENT_URL,
      timeoutMs: env.PAYMENT_TIMEOUT_MS,
      breakerThreshold: env.PAYMENT_BREAKER_THRESHOLD,
      halfOpenAfterMs: env.PAYMENT_BREAKER_HALF_OPEN_MS,
      internalSecret: env.INTERNAL_SECRET,
      log: createLogger("reservation", env.LOG_LEVEL).child({ component: "payment-client" }),
      registry: metrics.registry,
    }),
    limits: { maxRentalDays: env.MAX_RENTAL_DAYS, bookingHorizonDays: env.BOOKING_HORIZON_DAYS },
    holds: { unpaidHoldSeconds: env.UNPAID_HOLD_SECONDS, maxUnpaidHolds: env.MAX_UNPAID_HOLDS },
    idempotency: createIdempotency({ secret: env.INTERNAL_SECRET, afterCommit: crashAfterCommit(env.FAULT_CRASH_AFTER_COMMIT) }),
    published: (lane) => bus?.relay.kick(lane),
    // The synchronous registration's timeout plus a margin for recording its outcome.
    registrationGraceMs: env.PAYMENT_TIMEOUT_MS + 2_000,
  };
  return startSubgraphService<ReservationContext>({
    name: "reservation",
    env,
    typeDefs: reservationTypeDefsUrl,
    callers: RESERVATION_CALLERS,
    resolvers,
    db,
    extendContext: (base) => ({ ...base, deps, loaders: createLoaders(db) }),
    metrics,
    beforeListen: async (log) => log.info({ cars: await seedRateCard(db) }, "rate card seeded"),
    startWorkers: (log) => {
      bus = startEventBus({
        name: "reservation", db: sql, handlers: reservationEventHandlers, redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, log, lockDurationMs: env.EVENT_LOCK_MS,
        changeLogRetentionMs: env.CHANGE_LOG_RETENTION, outboxRetentionMs: env.OUTBOX_RETENTION,
        concurrency: env.EVENT_CONCURRENCY,
        laneWrittenBy: laneWrittenByHandler,
      });
      return closeAll([startIdempotencyPruner({ db: sql, retentionMs: env.IDEMPOTENCY_KEY_RETENTION_HOURS * 3_600_000, intervalMs: 600_000, log }), bus]);
    },
  });
}
