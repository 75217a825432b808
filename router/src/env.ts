import { baseEnvSchema, DEFAULT_MAX_OPERATION_LABELS, LOCAL_JWT_SECRET, portSchema, z } from "@rentcar/platform";
import { fileURLToPath } from "node:url";
import { SUPERGRAPH_FILE, type SubgraphEndpoint } from "./subgraphs.ts";

const optionalUrl = z.url().optional();
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalPositiveInt = z.coerce.number().int().positive().optional();
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1").optional();

/** A duration in seconds: a number of seconds, or a number with unit s, m, h or d (`24h`). */
const durationSeconds = (fallback: string) => z.string().default(fallback).transform((value, ctx) => {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: "custom", message: "must be seconds or a number with s, m, h or d (e.g. 24h)" });
    return z.NEVER;
  }
  return Number(match[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
}).pipe(z.number().int().positive());

/**
 * Router settings (README "Configuration" and "Security model" list each with its
 * default). In production every secret must be long and not a local default (checked
 * for every service by `parseEnv`).
 */
export const routerEnvSchema = baseEnvSchema.extend({
  PORT: portSchema(4000),
  /** HS256 secret of customer bearer tokens (`sub` = customer id). */
  JWT_SECRET: z.string().min(16, "must be at least 16 characters").default(LOCAL_JWT_SECRET),
  /** Longest lifetime a customer token may have (exp - iat), e.g. `24h` or `3600`. */
  JWT_MAX_TTL: durationSeconds("24h"),
  /** Clock difference tolerated on exp, nbf and iat, in seconds. */
  JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  /** When set, customer tokens must carry this `iss`. */
  JWT_ISSUER: z.string().min(1).optional(),
  /** When set, customer tokens must carry this `aud`. */
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** Composed supergraph SDL served by the gateway. */
  SUPERGRAPH_PATH: z.string().default(fileURLToPath(SUPERGRAPH_FILE)),
  RESERVATION_URL: optionalUrl,
  PAYMENT_URL: optionalUrl,
  RENTAL_URL: optionalUrl,
  /** GraphiQL at GET /graphql in a browser (ide.ts): default on, off when NODE_ENV=production. */
  GRAPHIQL: z.enum(["on", "off"]).optional(),
  /** Deadline of every router -> subgraph call, in ms. */
  SUBGRAPH_TIMEOUT_MS: positiveInt(5_000),
  /** Per-subgraph deadlines overriding SUBGRAPH_TIMEOUT_MS, in ms. */
  SUBGRAPH_TIMEOUT_MS_RESERVATION: optionalPositiveInt,
  SUBGRAPH_TIMEOUT_MS_PAYMENT: optionalPositiveInt,
  SUBGRAPH_TIMEOUT_MS_RENTAL: optionalPositiveInt,
  /** Consecutive failed calls to one subgraph that open its circuit breaker. */
  SUBGRAPH_BREAKER_THRESHOLD: positiveInt(5),
  /** How long an open breaker fails calls at once before one trial call, in ms. */
  SUBGRAPH_BREAKER_HALF_OPEN_MS: positiveInt(5_000),
  /** Keep-alive connections per subgraph at most; further calls wait for a free one. */
  SUBGRAPH_MAX_SOCKETS: positiveInt(64),
  /**
   * In-flight deduplication: an identical query fetch (same subgraph, body, customer and
   * forwarded headers) sent while this request was already in the router answers it too.
   */
  SUBGRAPH_DEDUP: z.enum(["true", "false", "1", "0"]).default("true").transform((v) => v === "true" || v === "1"),
  /**
   * Size of the gateway's query plan cache, in MiB of plan JSON (LRU). 8, not the gateway's
   * 30: a plan of this API is 0.15-1.4 KB of JSON but ~9 KB of heap, so 8 MiB holds ~6,000
   * plans (~55 MB of heap at worst, e.g. when filled with distinct junk documents), far
   * more than the API's distinct operations.
   */
  QUERY_PLAN_CACHE_MB: positiveInt(8),
  /** Distinct operation names with a metrics label of their own; the rest are labelled `other`. */
  METRICS_MAX_OPERATION_NAMES: positiveInt(DEFAULT_MAX_OPERATION_LABELS),
  /** Deepest field nesting a document may have (GraphQL Armor max-depth). */
  GRAPHQL_MAX_DEPTH: positiveInt(8),
  /** Aliases per document at most (GraphQL Armor max-aliases). */
  GRAPHQL_MAX_ALIASES: positiveInt(15),
  /** Lexical tokens per document at most, checked while parsing (GraphQL Armor max-tokens). */
  GRAPHQL_MAX_TOKENS: positiveInt(1_000),
  /** Directives per document at most (GraphQL Armor max-directives). */
  GRAPHQL_MAX_DIRECTIVES: positiveInt(50),
  /** Highest static cost of a document (GraphQL Armor cost-limit: objects 2, scalars 1, x1.5 per level). */
  GRAPHQL_MAX_COST: positiveInt(5_000),
  /** Schema introspection over HTTP; default on, except when NODE_ENV=production. */
  GRAPHQL_INTROSPECTION: flag,
  /** Requests per RATE_LIMIT_WINDOW_SECONDS per customer (per client address when anonymous). */
  RATE_LIMIT_REQUESTS: positiveInt(600),
  /** Mutations per RATE_LIMIT_WINDOW_SECONDS per customer (per client address when anonymous). */
  RATE_LIMIT_MUTATIONS: positiveInt(60),
  /** The rate-limit window, in seconds. */
  RATE_LIMIT_WINDOW_SECONDS: positiveInt(60),
  /**
   * Express `trust proxy`: which proxies' X-Forwarded-For to believe for the client address
   * (anonymous rate limits). `false` locally; e.g. `1` (one hop) behind the Ingress.
   */
  TRUST_PROXY: z.string().default("false").transform((v) => (v === "false" ? false : v === "true" ? true : /^\d+$/.test(v) ? Number(v) : v)),
  /** Open myReservationChanged subscriptions per graphql-ws connection; one more gets LIMIT_EXCEEDED. */
  SUBSCRIPTIONS_PER_CONNECTION: positiveInt(20),
  /** Open subscriptions per customer on one router replica; one more gets LIMIT_EXCEEDED. */
  SUBSCRIPTIONS_PER_CUSTOMER: positiveInt(100),
  /** Changes a subscription may fall behind before its socket is closed with 4008 (it resumes from its cursor). */
  SUBSCRIPTION_BUFFER: positiveInt(1_000),
  /** Gateway operations resolving subscription messages in flight at once (router-wide), so fan-out cannot starve a subgraph. */
  SUBSCRIPTION_RESOLVE_CONCURRENCY: positiveInt(16),
});

export type RouterEnv = z.infer<typeof routerEnvSchema>;

/** The deadline of calls to one subgraph: its override, else SUBGRAPH_TIMEOUT_MS. */
export function subgraphTimeoutMs(env: RouterEnv, name: SubgraphEndpoint["name"]): number {
  const override = { reservation: env.SUBGRAPH_TIMEOUT_MS_RESERVATION, payment: env.SUBGRAPH_TIMEOUT_MS_PAYMENT, rental: env.SUBGRAPH_TIMEOUT_MS_RENTAL }[name];
  return override ?? env.SUBGRAPH_TIMEOUT_MS;
}

/** Whether introspection is served: GRAPHQL_INTROSPECTION, else on outside production. */
export const introspectionEnabled = (env: RouterEnv): boolean => env.GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== "production";
