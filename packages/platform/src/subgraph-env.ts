import { z } from "zod";
import { baseEnvSchema, portSchema } from "./config.ts";
import type { Metrics } from "./metrics.ts";

/**
 * Environment of a subgraph process: base settings plus its port and its own
 * database (`DATABASE_URL`, defaulting to `rentcar_<name>` on the local PostgreSQL).
 */
export function subgraphEnvSchema(name: string, defaultPort: number) {
  return baseEnvSchema.extend({
    PORT: portSchema(defaultPort),
    /**
     * Requests a subgraph runs at once (admission control). Lower than the router's 64: each
     * holds database work, and fewer running at once keeps each one fast (Little's law), so
     * beyond capacity the excess is refused with OVERLOADED instead of every call slowing
     * past the router's SUBGRAPH_TIMEOUT_MS. 16 against a pool of 10: a running request holds
     * a connection only for its few statements (payment's payReservation: 4, registerPayment: 1)
     * and spends the rest parsing, validating and serialising, so 16 keep the pool busy without
     * a queue in front of it. Measured on the 2-core machine (saga-write at concurrency 64,
     * pg_stat_activity sampled every 0.5 s, load average 13-20): payment held 1.3 connections on
     * average (active or in a transaction), rental 0.4, reservation 4.0; payReservation p99
     * stayed 140-280 ms. The 503s at that load came from reservation, whose CPU is the limit.
     * The queue (ADMISSION_MAX_QUEUED 256, ADMISSION_MAX_QUEUE_WAIT_MS 1 s, admission.ts) bounds
     * a waiting request to 1 s, well inside the router's 5 s SUBGRAPH_TIMEOUT_MS, so a request is
     * refused cleanly before the router would give up on it with an unknown outcome.
     */
    ADMISSION_MAX_CONCURRENT: z.coerce.number().int().positive().default(16),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
      .default(`postgresql://postgres@127.0.0.1:5432/rentcar_${name}`),
    /**
     * Connection pool size (per process), shared by the Prisma client and the plain-SQL path.
     * 10: the measured average need at saga-write concurrency 64 is 1-4 connections per
     * subgraph (see ADMISSION_MAX_CONCURRENT), with bursts to 10 (GC pauses, relay rounds);
     * more would only let more transactions wait on a CPU-bound 2-core PostgreSQL (three
     * subgraphs x 10 = 30 connections already exceed what it runs in parallel), fewer would
     * queue the bursts. Raise it with the cores of the database, not with the load.
     */
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
    /** Longest a query outside a transaction waits for a pool connection, in ms (then OVERLOADED). */
    DATABASE_POOL_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
    /** Longest a transaction waits to start, i.e. for a pool connection, in ms (Prisma maxWait; then OVERLOADED). */
    DATABASE_TX_MAX_WAIT_MS: z.coerce.number().int().positive().default(5_000),
    /** Longest a transaction may stay open, in ms (Prisma timeout); ours take milliseconds, this only stops a stuck one. */
    DATABASE_TX_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
    /**
     * Event jobs this process applies at once (BullMQ worker concurrency). Each holds a pool
     * connection for its transaction, so keep it below DATABASE_POOL_MAX to leave
     * connections for requests. 4: measured against 16 (saga-write, alternating runs, load
     * average 11-20), 16 gave no more sagas/s at concurrency 64 (44.1 and 39.9 vs 43.7 and 47.6)
     * and settled the events no sooner (9.5 and 3.5 s vs 2.9 and 2.6 s after the last saga): payment and
     * rental consume 0.3 and 1 event per saga, a few ms each, far below what 4 jobs at once
     * apply; more only competes with requests for connections and CPU.
     */
    EVENT_CONCURRENCY: z.coerce.number().int().positive().default(4),
  });
}

/**
 * Pool options (`createDatabasePool` / `createPrismaAdapter` in @rentcar/db) from the
 * environment: the pool size, the wait for a connection, DATABASE_TX_TIMEOUT_MS as the
 * server-side limit on a transaction left idle, and every statement counted in
 * `db_statements_total` on `/metrics` (statements per request are what `npm run bench` reports).
 */
export function databasePoolOptions(env: SubgraphEnv, metrics: Pick<Metrics, "countStatement">): {
  max: number; connectionTimeoutMillis: number; idleInTransactionTimeoutMillis: number; onStatement(sql: string): void;
} {
  return {
    max: env.DATABASE_POOL_MAX,
    connectionTimeoutMillis: env.DATABASE_POOL_TIMEOUT_MS,
    idleInTransactionTimeoutMillis: env.DATABASE_TX_TIMEOUT_MS,
    onStatement: metrics.countStatement,
  };
}

/**
 * Prisma `transactionOptions` from the environment. Admission control bounds how many
 * requests wait for the pool, so a transaction that cannot start within maxWait means the
 * service is saturated: it is answered OVERLOADED (nothing was written), never INTERNAL_SERVER_ERROR.
 */
export function transactionOptions(env: SubgraphEnv): { maxWait: number; timeout: number } {
  return { maxWait: env.DATABASE_TX_MAX_WAIT_MS, timeout: env.DATABASE_TX_TIMEOUT_MS };
}

export type SubgraphEnv = z.infer<ReturnType<typeof subgraphEnvSchema>>;
