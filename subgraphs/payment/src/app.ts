import { createDatabasePool, createPrismaAdapter, createSqlClient } from "@rentcar/db";
import { startEventBus, type EventBus } from "@rentcar/events";
import { closeAll, crashAfterCommit, createIdempotency, createMetrics, databasePoolOptions, transactionOptions, ISSUER, PUBLIC_API, startIdempotencyPruner, startSubgraphService, type HttpService, type InternalAccessPolicy } from "@rentcar/platform";
import type { PaymentContext } from "./context.ts";
import type { PaymentEnv } from "./env.ts";
import { paymentEventHandlers } from "./event-handlers.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { createLoaders } from "./loaders.ts";
import { startHoldExpiry } from "./hold-expiry.ts";
import { resolvers } from "./resolvers.ts";

/** SDL of the payment subgraph (also read by `npm run compose`). */
export const paymentTypeDefsUrl = new URL("schema.graphql", import.meta.url);

/**
 * Who may call payment with an internal token: the router (public API for a customer),
 * reservation (registerPayment only), and the projection rebuild (read statuses).
 */
export const PAYMENT_CALLERS: InternalAccessPolicy = {
  [ISSUER.router]: PUBLIC_API,
  [ISSUER.reservation]: ["registerPayment"],
  [ISSUER.projectionRebuild]: ["_entities"],
};

/** Starts the payment subgraph (`/graphql` on `env.PORT`), its outbox relay and its event consumer. */
export async function startPaymentSubgraph(env: PaymentEnv): Promise<HttpService> {
  const metrics = createMetrics("payment");
  // One pool: Prisma for reads, plain SQL (no Prisma per call) for the saga's writes and events.
  const pool = createDatabasePool(env.DATABASE_URL, databasePoolOptions(env, metrics));
  const db = new PrismaClient({ adapter: createPrismaAdapter(pool), transactionOptions: transactionOptions(env) });
  const sql = createSqlClient(pool, { transactionMaxWaitMs: env.DATABASE_TX_MAX_WAIT_MS });
  let bus: EventBus | undefined;
  const idempotency = createIdempotency({ secret: env.INTERNAL_SECRET, afterCommit: crashAfterCommit(env.FAULT_CRASH_AFTER_COMMIT) });
  return startSubgraphService<PaymentContext>({
    name: "payment",
    env,
    typeDefs: paymentTypeDefsUrl,
    callers: PAYMENT_CALLERS,
    resolvers,
    db,
    metrics,
    extendContext: (base) => ({ ...base, db, sql, idempotency, loaders: createLoaders(db), published: () => bus?.relay.kick() }),
    startWorkers: (log) => {
      bus = startEventBus({
        name: "payment", db: sql, handlers: paymentEventHandlers, redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, log, lockDurationMs: env.EVENT_LOCK_MS,
        outboxRetentionMs: env.OUTBOX_RETENTION,
        concurrency: env.EVENT_CONCURRENCY, broadcasts: false, // only reservation writes MyReservationChanged
        sagaClaims: true, // two statements per published batch, no transaction (nothing here reads available_at)
      });
      return closeAll([
        startIdempotencyPruner({ db: sql, retentionMs: env.IDEMPOTENCY_KEY_RETENTION_HOURS * 3_600_000, intervalMs: 600_000, log }),
        startHoldExpiry({ db: sql, intervalMs: env.HOLD_EXPIRY_SWEEP_MS, log, published: () => bus?.relay.kick() }),
        bus,
      ]);
    },
  });
}
