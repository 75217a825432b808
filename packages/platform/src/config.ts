import { z } from "zod";
import { LOCAL_JWT_SECRET } from "./customer-token.ts";
import { admissionEnvSchema } from "./admission.ts";

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A duration such as `24h`, `30m`, `90s`, `500ms`, `7d` or a bare number of ms, as ms.
 * Used for settings an operator writes by hand (e.g. `CHANGE_LOG_RETENTION`).
 */
export const durationMsSchema = (defaultValue: string) => z.string().default(defaultValue)
  .transform((text, ctx) => {
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
    if (!match) {
      ctx.addIssue({ code: "custom", message: "must be a duration like 24h, 30m, 90s, 500ms or a number of ms" });
      return z.NEVER;
    }
    return Number(match[1]) * DURATION_UNITS_MS[(match[2] ?? "ms") as keyof typeof DURATION_UNITS_MS];
  })
  .pipe(z.number().int().positive());

/**
 * Settings every service reads. Defaults work on a fresh developer machine;
 * production overrides them through the environment (k8s ConfigMap / Secret).
 */
/** Local-only default for `INTERNAL_SECRET` (documented in README.md); refused in production. */
export const LOCAL_INTERNAL_SECRET = "local-internal-secret-change-me";

/** Shortest secret accepted when NODE_ENV=production: 32 characters (HS256 wants >= 256 bits of key). */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

export const baseEnvSchema = z.object({
  ...admissionEnvSchema.shape,
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Address the HTTP server listens on: all interfaces in a container; `npm start` passes 127.0.0.1. */
  HOST: z.string().min(1).default("0.0.0.0"),
  /**
   * `redis://host:port` (TLS: `rediss://`; credentials as `user:password@`) for one Redis
   * server; `redis+cluster://host:port` (`rediss+cluster://`) for a Redis Cluster, `host`
   * being any node or the managed service's configuration endpoint.
   */
  REDIS_URL: z.url({ protocol: /^rediss?(\+cluster)?$/, error: "must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL" })
    .default("redis://127.0.0.1:6379"),
  /**
   * Key prefix of the BullMQ queues in Redis (tests use a unique one per run). Hash-tagged,
   * `{name}`, so that every key of a queue lands in one slot of a Redis Cluster (BullMQ's
   * scripts touch several keys at once); required on a cluster, accepted everywhere.
   */
  QUEUE_PREFIX: z.string().regex(/^(\{[\w.-]+\}|[\w.-]+)$/, "must be {name} (hash-tagged) or name; name: letters, digits, _ . -").default("{rentcar}"),
  /** How long an in-flight event job stays locked to a consumer, in ms; a crashed consumer's jobs are retried after it. */
  EVENT_LOCK_MS: z.coerce.number().int().min(1_000).default(30_000),
  /**
   * How long the per-customer change log of "my reservations" keeps changes (written by
   * reservation, replayed by the router for `myReservationChanged(after:)`); an older
   * cursor gets CURSOR_EXPIRED. Default 24h.
   */
  CHANGE_LOG_RETENTION: durationMsSchema("24h"),
  /**
   * How long a subgraph keeps outbox rows after publishing them (for inspection), before its
   * relay deletes them; pending rows are never deleted. Default 1h.
   */
  OUTBOX_RETENTION: durationMsSchema("1h"),
  /** HS256 secret of the internal token the router (and services) sign for subgraph calls. */
  INTERNAL_SECRET: z.string().min(16, "must be at least 16 characters").default(LOCAL_INTERNAL_SECRET),
  /** How long in-flight requests may take to finish after SIGTERM, in ms. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * How long after SIGTERM the service keeps serving with readiness 503 before it stops
   * accepting connections, in ms (lets load balancers stop routing to it first).
   */
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).default(0),
});

export type BaseEnv = z.infer<typeof baseEnvSchema>;

/**
 * Settings of the customer mutations' safety nets, read by reservation and payment (both
 * extend their env schema with these, so each setting is defined and defaulted only here).
 */
export const mutationSafetyEnv = {
  /** How long an `Idempotency-Key` is remembered, in hours (at least 24: a client may retry for a day). */
  IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce.number().int().min(24).default(24),
  /** How long an unpaid reservation holds its car, in seconds; then payment expires it and reservation cancels it (reason EXPIRED). */
  UNPAID_HOLD_SECONDS: z.coerce.number().int().positive().default(1_800),
  /** Unpaid reservations a customer may hold at once; the next reserveCar is LIMIT_EXCEEDED. */
  MAX_UNPAID_HOLDS: z.coerce.number().int().positive().default(3),
  /** How often payment looks for unpaid holds past their deadline, in ms (bounds how late an expiry can be). */
  HOLD_EXPIRY_SWEEP_MS: z.coerce.number().int().min(100).default(1_000),
  /**
   * Test-only fault injection: the name of a keyed mutation (`reserveCar`, `payReservation`,
   * `cancelReservation`) after whose commit the process kills itself (SIGKILL) before answering,
   * to prove that a retry with the same key returns the first result. Refused when NODE_ENV=production.
   */
  FAULT_CRASH_AFTER_COMMIT: z.enum(["reserveCar", "payReservation", "cancelReservation"]).optional(),
};

/** Fails start-up when a test-only setting reaches production. */
export const refuseTestOnlySettingsInProduction = (env: { NODE_ENV: string; FAULT_CRASH_AFTER_COMMIT?: string | undefined }, ctx: z.RefinementCtx) => {
  if (env.NODE_ENV === "production" && env.FAULT_CRASH_AFTER_COMMIT) {
    ctx.addIssue({ code: "custom", path: ["FAULT_CRASH_AFTER_COMMIT"], message: "is a test-only fault injection and is refused in production" });
  }
};

/** Kills this process at once, as a crash would (no cleanup, no reply): the fault of {@link mutationSafetyEnv}.FAULT_CRASH_AFTER_COMMIT. */
export function crashAfterCommit(faultOperation: string | undefined): ((operation: string) => void) | undefined {
  if (!faultOperation) return undefined;
  return (operation) => {
    if (operation === faultOperation) process.kill(process.pid, "SIGKILL");
  };
}

/** Thrown by {@link parseEnv}; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * Validates `env` against `schema` and returns the typed config.
 * @throws ConfigError listing every invalid or missing variable at once.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join(".") || "(env)"}: ${issue.message}`));
  }
  const problems = [...productionSecretProblems(result.data as Record<string, unknown>), ...redisClusterProblems(result.data)];
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** Secrets every service may hold, with the local default that must never reach production. */
const SECRETS: Record<string, string> = { INTERNAL_SECRET: LOCAL_INTERNAL_SECRET, JWT_SECRET: LOCAL_JWT_SECRET };

/**
 * With NODE_ENV=production, a secret that is a documented local default or shorter than
 * {@link MIN_PRODUCTION_SECRET_LENGTH} is refused, in every service (router and subgraphs
 * alike): anyone who read the README could otherwise sign internal or customer tokens.
 */
function productionSecretProblems(env: Record<string, unknown>): string[] {
  if (env.NODE_ENV !== "production") return [];
  return Object.entries(SECRETS).flatMap(([name, localDefault]) => {
    const value = env[name];
    if (typeof value !== "string") return [];
    if (value === localDefault) return [`${name}: the local default secret is not allowed in production`];
    if (value.length < MIN_PRODUCTION_SECRET_LENGTH) return [`${name}: must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`];
    return [];
  });
}

/** On a Redis Cluster (`redis+cluster://`) the queue prefix must be a hash tag, or BullMQ's multi-key scripts fail with CROSSSLOT. */
function redisClusterProblems(config: unknown): string[] {
  const { REDIS_URL, QUEUE_PREFIX } = (config ?? {}) as { REDIS_URL?: unknown; QUEUE_PREFIX?: unknown };
  const cluster = typeof REDIS_URL === "string" && /^rediss?\+cluster:/.test(REDIS_URL);
  if (cluster && typeof QUEUE_PREFIX === "string" && !/^\{.+\}$/.test(QUEUE_PREFIX)) {
    return [`QUEUE_PREFIX: must be hash-tagged, e.g. {${QUEUE_PREFIX}}, on a Redis Cluster (REDIS_URL is ${REDIS_URL.split(":")[0]}://)`];
  }
  return [];
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
