import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { expressMiddleware } from "@as-integrations/express5";
import { createLogger, createMetrics, metricsPlugin, startHttpService, type HttpService } from "@rentcar/platform";
import express from "express";
import { routerContext, type RouterContext } from "./context.ts";
import type { RouterEnv } from "./env.ts";
import { createGateway } from "./gateway.ts";

/**
 * Starts the federation router on `env.PORT`: `/graphql` (queries and mutations planned
 * by `@apollo/gateway` over the committed supergraph; the Apollo Sandbox landing page on
 * GET from a browser), plus `/health/*` and `/metrics`.
 */
export async function startRouter(env: RouterEnv): Promise<HttpService> {
  const log = createLogger("router", env.LOG_LEVEL);
  const metrics = createMetrics("router");
  const apollo = new ApolloServer<RouterContext>({
    gateway: createGateway(env),
    plugins: [
      metricsPlugin(metrics),
      ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
    // Introspection feeds the landing page; the schema is public API, so keeping it on is deliberate.
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
    log,
    metrics,
    // The router owns no store: once the supergraph is loaded it can plan and serve.
    readiness: [],
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    mount(app) {
      app.use("/graphql", express.json({ limit: "1mb" }), expressMiddleware(apollo, {
        context: ({ req }) => routerContext(env.JWT_SECRET, log, {
          authorization: req.header("authorization"),
          requestId: req.header("x-request-id"),
        }),
      }));
    },
    close: () => apollo.stop(),
  });
}
