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
     * past the router's SUBGRAPH_TIMEOUT_MS.
     */
    ADMISSION_MAX_CONCURRENT: z.coerce.number().int().positive().default(16),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
      .default(`postgresql://postgres@127.0.0.1:5432/rentcar_${name}`),
    /** Connection pool size (per process). */
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
     * connections for requests.
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
