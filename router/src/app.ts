import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { createAdmission, createLogger, createMetrics, graphqlHttpHandler, jsonBody, overloadedResponsePlugin, metricsPlugin, REQUEST_ID_HEADER, startHttpService, type HttpService } from "@rentcar/platform";
import type { GraphQLSchema } from "graphql";
import { createChangeHub } from "./change-hub.ts";
import { startSubscriptionServer, subscriptionLimits } from "./subscriptions.ts";
import { customerAuthOf, routerContext, type RouterContext } from "./context.ts";
import type { RouterEnv } from "./env.ts";
import { errorContractPlugin, formatClientError } from "./error-contract.ts";
import { abuseLimits, tokenLimit } from "./abuse-limits.ts";
import { introspectionEnabled } from "./env.ts";
import { createGateway } from "./gateway.ts";
import { ideEnabled, mountIde } from "./ide.ts";
import { createRateLimits, rateKey } from "./rate-limits.ts";
import { validateSharedScalars } from "./scalars.ts";

/**
 * Starts the federation router on `env.PORT`: `/graphql` (queries and mutations planned
 * by `@apollo/gateway` over the committed supergraph; GraphiQL on GET from a browser, see ide.ts), graphql-ws subscriptions on the same path, plus `/health/*` and `/metrics`.
 */
export async function startRouter(env: RouterEnv): Promise<HttpService> {
  const log = createLogger("router", env.LOG_LEVEL);
  const metrics = createMetrics("router", env.METRICS_MAX_OPERATION_NAMES);
  const { gateway, dataSources } = createGateway(env, log, metrics.registry);
  const auth = customerAuthOf(env);
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
    validateSharedScalars(schema);
    apiSchema = schema;
  });
  // Beyond capacity, requests are refused (503 OVERLOADED) before planning rather than queued without bound.
  const admission = createAdmission(env, metrics.registry);
  const hub = createChangeHub(env.REDIS_URL, env.QUEUE_PREFIX, log);
  const limits = createRateLimits({
    redisUrl: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    requestsPerWindow: env.RATE_LIMIT_REQUESTS,
    mutationsPerWindow: env.RATE_LIMIT_MUTATIONS,
    windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
    log,
  });
  const armor = abuseLimits(env);
  let subscriptions: { close(): Promise<void> } | undefined;
  const apollo = new ApolloServer<RouterContext>({
    gateway,
    plugins: [
      ...armor.plugins,
      errorContractPlugin(),
      limits.mutationPlugin(),
      metricsPlugin(metrics),
      overloadedResponsePlugin(),
      // The browser page is our offline GraphiQL (ide.ts), not Apollo's CDN-loaded Sandbox.
      ApolloServerPluginLandingPageDisabled(),
    ],
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    formatError: formatClientError,
    // Feeds GraphiQL in development; off in production unless GRAPHQL_INTROSPECTION=true (README "Security model").
    introspection: introspectionEnabled(env),
    // Our own SIGTERM handling drains HTTP first; Apollo's would re-raise the signal mid-drain.
    stopOnTerminationSignals: false,
    // Stacks go to the logs, never to clients.
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  log.info({ supergraph: env.SUPERGRAPH_PATH }, "supergraph loaded");
  return startHttpService({
    name: "router",
    port: env.PORT,
    host: env.HOST,
    log,
    metrics,
    // The router owns no store; Redis holds the change logs it pushes to subscribers.
    readiness: [{ name: "redis", check: () => hub.check() }],
    // Reported, not required: one subgraph down must not take every router replica out of
    // the load balancer (the others' fields still work, and its breaker answers at once).
    readinessDetails: () => ({ subgraphs: Object.fromEntries([...dataSources].map(([name, source]) => [name, { breaker: source.state }])) }),
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    mount(app, server) {
      app.set("trust proxy", env.TRUST_PROXY);
      // No ETag (a hash of every response body): GraphQL answers are POSTed and never revalidated.
      app.set("etag", false);
      subscriptions = startSubscriptionServer({ server, apollo, schema: () => apiSchema!, hub, auth, log, limits: subscriptionLimits(env), registry: metrics.registry });
      if (ideEnabled(env)) mountIde(app);
      app.use("/graphql", admission.middleware, jsonBody(2 ** 20), tokenLimit(env.GRAPHQL_MAX_TOKENS), graphqlHttpHandler(apollo,
        // Every request is counted, a refused token too (by client address), before any parsing.
        async ({ req }) => {
          const headers = { authorization: req.header("authorization"), requestId: req.header(REQUEST_ID_HEADER) };
          const context = await routerContext(auth, log, headers).catch(async (error: unknown) => {
            await limits.consumeRequest(rateKey(undefined, req.ip));
            throw error;
          });
          const key = rateKey(context.customerId, req.ip);
          await limits.consumeRequest(key);
          return { ...context, rateKey: key };
        }));
    },
    // Subscribers are told to go (1001) so they reconnect to another replica; then HTTP drains.
    beforeDrain: async () => subscriptions?.close(),
    async close() {
      await apollo.stop();
      await Promise.all([...dataSources.values()].map((source) => source.close()));
      await hub.close();
      await limits.close();
    },
  });
}
