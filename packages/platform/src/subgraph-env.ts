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
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
      .default(`postgresql://postgres@127.0.0.1:5432/rentcar_${name}`),
    /** Connection pool size (per process). */
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  });
}

/**
 * Options for `createPrismaAdapter` from the environment: the pool size, and every
 * statement counted in `db_statements_total` on `/metrics` (statements per request are
 * what `npm run bench` reports).
 */
export function databasePoolOptions(env: SubgraphEnv, metrics: Pick<Metrics, "countStatement">): { max: number; onStatement(sql: string): void } {
  return { max: env.DATABASE_POOL_MAX, onStatement: metrics.countStatement };
}

export type SubgraphEnv = z.infer<ReturnType<typeof subgraphEnvSchema>>;
