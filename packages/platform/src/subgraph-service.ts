import { readFileSync } from "node:fs";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import {
  GraphQLError, Kind, parse, type DocumentNode, type FragmentDefinitionNode, type GraphQLFormattedError, type SelectionSetNode,
} from "graphql";
import type { Logger } from "pino";
import { createLogger } from "./logger.ts";
import type { SubgraphEnv } from "./subgraph-env.ts";
import { ErrorCode, unauthenticated } from "./errors.ts";
import { closeRedis, connectRedis, redisReadiness } from "./redis.ts";
import { startHttpService, type HttpService } from "./http-service.ts";
import {
  firstForbiddenField, INTERNAL_TOKEN_HEADER, ROUTER_ONLY, verifyInternalToken, type InternalAccessPolicy, type InternalCaller,
} from "./internal-auth.ts";
import { acceptRequestId, REQUEST_ID_HEADER } from "./request-id.ts";
import { createMetrics, metricsPlugin, type Metrics } from "./metrics.ts";
import { createAdmission, isCapacityError, overloadedError } from "./admission.ts";
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
  /**
   * Which internal-token issuers may call what (default {@link ROUTER_ONLY}: the router,
   * public API only). Anything else is FORBIDDEN / 403 before a resolver runs.
   */
  callers?: InternalAccessPolicy;
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
  // Beyond capacity, requests are refused (503 OVERLOADED) before any work rather than queued without bound.
  const admission = createAdmission(env, metrics.registry);
  let workers: { close(): Promise<void> } | undefined;
  const typeDefs = loadTypeDefs(options.typeDefs);
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema([{ typeDefs, resolvers: options.resolvers as never }]),
    plugins: [
      callerAccessPlugin<TContext>(options.callers ?? ROUTER_ONLY, internalRootFields(typeDefs)),
      metricsPlugin(metrics),
      errorLoggingPlugin<TContext>(),
      // Inline tracing only serves Apollo Studio usage reporting, which this deployment does not use.
      ApolloServerPluginInlineTraceDisabled(),
    ],
    formatError: maskUnexpectedErrors,
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
      app.use("/graphql", admission.middleware, express.json({ limit: "1mb" }), expressMiddleware(apollo, {
        context: async ({ req }) => {
          const requestId = acceptRequestId(req.header(REQUEST_ID_HEADER));
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

/**
 * Replaces unexpected errors (no stable code) with a generic one in every NODE_ENV, so a
 * driver message (SQL, SQLSTATE, file paths) never leaves the service; the full error is
 * logged by {@link errorLoggingPlugin} with the request id. Pool exhaustion becomes OVERLOADED.
 */
function maskUnexpectedErrors(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  // No database connection in time: the statement never ran; the caller may retry (the router answers 503).
  if (isCapacityError(error)) return overloadedError(formatted.path);
  const code = formatted.extensions?.code;
  if (typeof code === "string" && code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
  return { message: "internal error", ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

/**
 * Enforces the subgraph's internal-caller allow-list once the operation is known: the
 * caller's issuer must be listed and allowed every root field the operation selects.
 */
function callerAccessPlugin<TContext extends RequestContext>(policy: InternalAccessPolicy, internalFields: ReadonlySet<string>): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!operation) return;
          const fragments = new Map(document.definitions
            .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
            .map((d) => [d.name.value, d]));
          const forbidden = firstForbiddenField(policy, contextValue.caller.issuer, rootFields(operation.selectionSet, fragments), internalFields);
          if (forbidden === undefined) return;
          contextValue.log.warn({ issuer: contextValue.caller.issuer, field: forbidden }, "internal caller refused by the allow-list");
          throw new GraphQLError(`caller ${contextValue.caller.issuer} may not call ${forbidden}`, {
            extensions: { code: ErrorCode.FORBIDDEN, http: { status: 403 } },
          });
        },
      };
    },
  };
}

/** Names of the root fields a selection set reaches, through fragments and inline fragments. */
function rootFields(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(selection.selectionSet, fragments, seen);
    const name = selection.name.value;
    const fragment = fragments.get(name);
    if (!fragment || seen.has(name)) return [];
    seen.add(name);
    return rootFields(fragment.selectionSet, fragments, seen);
  });
}

/** Root fields (Query/Mutation/Subscription) the SDL marks `@inaccessible`: internal operations. */
function internalRootFields(typeDefs: DocumentNode): Set<string> {
  const internal = new Set<string>();
  for (const definition of typeDefs.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    if (!["Query", "Mutation", "Subscription"].includes(definition.name.value)) continue;
    for (const field of definition.fields ?? []) {
      if (field.directives?.some((d) => d.name.value === "inaccessible")) internal.add(field.name.value);
    }
  }
  return internal;
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
