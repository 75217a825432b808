import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import { GraphQLError, parse, type DocumentNode, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { createLogger } from "./logger.ts";
import type { SubgraphEnv } from "./subgraph-env.ts";
import { ErrorCode, unauthenticated } from "./errors.ts";
import { closeRedis, connectRedis, redisReadiness } from "./redis.ts";
import { startHttpService, type HttpService } from "./http-service.ts";
import { INTERNAL_TOKEN_HEADER, verifyInternalToken, type InternalCaller } from "./internal-auth.ts";
import { createMetrics, metricsPlugin, type Metrics } from "./metrics.ts";
import { IDEMPOTENCY_KEY_HEADER } from "./idempotency.ts";

/** A resolver map; typed loosely because each service types its own resolvers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Resolvers = Record<string, Record<string, any>>;

/** What every subgraph resolver receives; services extend it with their loaders. */
export interface RequestContext {
  requestId: string;
  /** Logger tagged with service and requestId. */
  log: Logger;
  /** Verified caller: the router (on behalf of `customerId`) or another service. */
  caller: InternalCaller;
  customerId: string | undefined;
  /** The client's `Idempotency-Key` header (forwarded by the router), for keyed mutations (./idempotency.ts). */
  idempotencyKey?: string | undefined;
}

/** The slice of a generated Prisma client the platform needs (readiness ping, shutdown). */
export interface PrismaLike {
  $executeRawUnsafe(query: string): Promise<number>;
  $disconnect(): Promise<void>;
}

export interface SubgraphServiceOptions<TContext extends RequestContext> {
  name: string;
  env: SubgraphEnv;
  /** URL of the subgraph's `.graphql` SDL file. */
  typeDefs: URL;
  /** Resolver map (including `__resolveReference` for entities). */
  resolvers: Resolvers;
  /** The subgraph's own database: pinged by readiness, disconnected last on shutdown. */
  db: PrismaLike;
  /** Adds per-request state (DataLoaders, ...) to the base context. */
  extendContext(base: RequestContext): TContext;
  /** Runs once before the server listens (e.g. idempotent seeding). */
  beforeListen?(log: Logger): Promise<void>;
  /** Starts background work (outbox relay, event consumer) once listening; closed on shutdown before the database. */
  startWorkers?(log: Logger): { close(): Promise<void> };
  /** Metrics registry, when the service registers metrics of its own (else one is created). */
  metrics?: Metrics;
}

/**
 * Starts a federation subgraph (`@apollo/subgraph` on `@apollo/server`) at `/graphql`
 * with health and metrics routes. Every request must carry a valid internal token
 * (signed by the router or a sibling service); otherwise it fails with UNAUTHENTICATED / 401.
 * Readiness checks the database and Redis (`REDIS_URL`).
 */
export async function startSubgraphService<TContext extends RequestContext>(
  options: SubgraphServiceOptions<TContext>,
): Promise<HttpService> {
  const { env, db } = options;
  const log = createLogger(options.name, env.LOG_LEVEL);
  await options.beforeListen?.(log);
  const metrics = options.metrics ?? createMetrics(options.name);
  const redis = connectRedis(env.REDIS_URL, log);
  let workers: { close(): Promise<void> } | undefined;
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema([{ typeDefs: loadTypeDefs(options.typeDefs), resolvers: options.resolvers as never }]),
    // Inline tracing only serves Apollo Studio usage reporting, which this deployment does not use.
    plugins: [metricsPlugin(metrics), errorLoggingPlugin<TContext>(), ApolloServerPluginInlineTraceDisabled()],
    formatError: maskUnexpectedErrors(env.NODE_ENV === "production"),
    // Our own SIGTERM handling drains HTTP first; Apollo's would re-raise the signal mid-drain.
    stopOnTerminationSignals: false,
    // Stacks go to the logs, never to clients.
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  const service = await startHttpService({
    name: options.name,
    port: env.PORT,
    host: env.HOST,
    log,
    metrics,
    readiness: [{ name: "database", check: () => db.$executeRawUnsafe("SELECT 1") }, redisReadiness(redis)],
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    mount(app) {
      app.use("/graphql", express.json({ limit: "1mb" }), expressMiddleware(apollo, {
        context: async ({ req }) => {
          const requestId = req.header("x-request-id") ?? randomUUID();
          const caller = await verifyInternalToken(env.INTERNAL_SECRET, req.header(INTERNAL_TOKEN_HEADER));
          if (!caller) {
            throw new GraphQLError("subgraphs accept only calls from the router or sibling services", {
              extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
            });
          }
          const base: RequestContext = {
            requestId,
            caller,
            customerId: caller.customerId,
            idempotencyKey: req.header(IDEMPOTENCY_KEY_HEADER),
            log: log.child({ requestId, ...(caller.customerId ? { customerId: caller.customerId } : {}) }),
          };
          return options.extendContext(base);
        },
      }));
    },
    async close() {
      await apollo.stop();
      await workers?.close();
      await closeRedis(redis);
      await db.$disconnect();
    },
  });
  workers = options.startWorkers?.(log);
  return service;
}

/** Logs every error that is not one of our deliberate domain errors, with its reservation context. */
function errorLoggingPlugin<TContext extends RequestContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            // Domain errors (a stable code) are expected outcomes: one info line, no stack.
            if (typeof code === "string" && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
              contextValue.log?.info({ code, operationName, path: error.path }, error.message);
            } else {
              contextValue.log?.error({ err: error.originalError ?? error, operationName, path: error.path }, error.message);
            }
          }
        },
      };
    },
  };
}

/** In production, replaces unexpected errors' messages so internals never leak to clients. */
function maskUnexpectedErrors(production: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (!production || (typeof code === "string" && code !== ErrorCode.INTERNAL_SERVER_ERROR)) return formatted;
    return { message: "internal error", path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}

/**
 * The customer on whose behalf the request runs.
 * @throws UNAUTHENTICATED when the router forwarded no customer (no bearer token).
 */
export function requireCustomer(ctx: RequestContext): string {
  if (!ctx.customerId) throw unauthenticated("this operation needs a signed-in customer: send Authorization: Bearer <JWT>");
  return ctx.customerId;
}

/** Parses a `.graphql` SDL file (e.g. `new URL("schema.graphql", import.meta.url)`). */
function loadTypeDefs(file: URL): DocumentNode {
  return parse(readFileSync(file, "utf8"));
}

/**
 * Ownership filter for entity rows: a row is visible to the customer it belongs to and
 * to sibling services (calls not issued by the router); to anyone else it is `null`,
 * so another customer's data is never leaked through a federated field.
 */
export function visibleTo<T extends { customerId: string }>(ctx: RequestContext, row: T | null): T | null {
  if (!row) return null;
  return ctx.caller.issuer !== "router" || row.customerId === ctx.customerId ? row : null;
}
