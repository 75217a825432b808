import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import { createLogger, createMetrics, metricsPlugin, startHttpService, type HttpService } from "@rentcar/platform";
import type { GraphQLSchema } from "graphql";
import { createChangeHub } from "./change-hub.ts";
import { startSubscriptionServer } from "./subscriptions.ts";
import express from "express";
import { routerContext, type RouterContext } from "./context.ts";
import type { RouterEnv } from "./env.ts";
import { createGateway } from "./gateway.ts";
import { ideEnabled, mountIde } from "./ide.ts";

/**
 * Starts the federation router on `env.PORT`: `/graphql` (queries and mutations planned
 * by `@apollo/gateway` over the committed supergraph; GraphiQL on GET from a browser, see ide.ts), graphql-ws subscriptions on the same path, plus `/health/*` and `/metrics`.
 */
export async function startRouter(env: RouterEnv): Promise<HttpService> {
  const log = createLogger("router", env.LOG_LEVEL);
  const metrics = createMetrics("router");
  const gateway = createGateway(env);
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => { apiSchema = schema; });
  const hub = createChangeHub(env.REDIS_URL, env.QUEUE_PREFIX, log);
  let subscriptions: { close(): Promise<void> } | undefined;
  const apollo = new ApolloServer<RouterContext>({
    gateway,
    plugins: [
      metricsPlugin(metrics),
      // The browser page is our offline GraphiQL (ide.ts), not Apollo's CDN-loaded Sandbox.
      ApolloServerPluginLandingPageDisabled(),
    ],
    // Introspection feeds GraphiQL; the schema is public API, so keeping it on is deliberate.
    introspection: true,
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
    // The router owns no store; Redis carries the live changes it pushes to subscribers.
    readiness: [{ name: "redis", check: () => hub.check() }],
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    mount(app, server) {
      subscriptions = startSubscriptionServer({ server, apollo, schema: () => apiSchema!, hub, jwtSecret: env.JWT_SECRET, log });
      if (ideEnabled(env)) mountIde(app);
      app.use("/graphql", express.json({ limit: "1mb" }), expressMiddleware(apollo, {
        context: ({ req }) => routerContext(env.JWT_SECRET, log, {
          authorization: req.header("authorization"),
          requestId: req.header("x-request-id"),
        }),
      }));
    },
    // Subscribers are told to go (1001) so they reconnect to another replica; then HTTP drains.
    beforeDrain: async () => subscriptions?.close(),
    async close() {
      await apollo.stop();
      await hub.close();
    },
  });
}
