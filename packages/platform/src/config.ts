import { z } from "zod";

/**
 * Settings every service reads. Defaults work on a fresh developer machine;
 * production overrides them through the environment (k8s ConfigMap / Secret).
 */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  /** Key prefix of the BullMQ queues in Redis (tests use a unique one per run). */
  QUEUE_PREFIX: z.string().regex(/^[\w.-]+$/).default("rentcar"),
  /** How long an in-flight event job stays locked to a consumer, in ms; a crashed consumer's jobs are retried after it. */
  EVENT_LOCK_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** HS256 secret of the internal token the router (and services) sign for subgraph calls. */
  INTERNAL_SECRET: z.string().min(16, "must be at least 16 characters").default("local-internal-secret-change-me"),
  /** How long in-flight requests may take to finish after SIGTERM, in ms. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * How long after SIGTERM the service keeps serving with readiness 503 before it stops
   * accepting connections, in ms (lets load balancers stop routing to it first).
   */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

export type BaseEnv = z.infer<typeof baseEnvSchema>;

/** Thrown by {@link parseEnv}; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Validates `env` against `schema` and returns the typed config.
 * @throws ConfigError listing every invalid or missing variable at once.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => `${issue.path.join(".") || "(env)"}: ${issue.message}`),
  );
}

/**
 * Like {@link parseEnv}, but for process start-up: prints the one message listing
 * every problem to stderr and exits with code 1 instead of throwing.
 */
export function loadEnv<S extends z.ZodType>(service: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return parseEnv(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
}

/** `PORT` with a per-service default (router 4000, subgraphs 4001-4003). */
export const portSchema = (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort);

export { z };
