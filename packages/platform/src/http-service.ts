import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ApolloServer, BaseContext } from "@apollo/server";
import { HeaderMap } from "@apollo/server";
import express from "express";
import type { z } from "zod";
import { loadEnv } from "./config.ts";
import type { Logger } from "pino";
import { checkReadiness, type ReadinessCheck } from "./health.ts";
import type { Metrics } from "./metrics.ts";

export interface HttpServiceOptions {
  name: string;
  port: number;
  host?: string;
  log: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /**
   * Extra information for the readiness JSON that does not decide readiness (e.g. the
   * router's circuit breaker per subgraph): merged into the report as is.
   */
  readinessDetails?(): Record<string, unknown>;
  /** Max time in ms in-flight requests get to finish once shutdown starts. */
  shutdownTimeoutMs: number;
  /** Time in ms between readiness turning 503 and the listener closing (default 0). */
  shutdownDelayMs?: number;
  /** Mounts the service's own routes (e.g. `/graphql`) after the health and metrics routes. */
  mount(app: express.Express, server: http.Server): Promise<void> | void;
  /** Runs when draining starts, e.g. to close long-lived WebSocket connections that would hold the drain open. */
  beforeDrain?(): Promise<void>;
  /** Releases the service's resources (Apollo, database pool, Redis) after HTTP has drained. */
  close?(): Promise<void>;
}

export interface HttpService {
  server: http.Server;
  log: Logger;
  port: number;
  url: string;
  /** Readiness turns 503, in-flight requests finish (bounded by shutdownTimeoutMs), then resources close. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Starts an HTTP service with `GET /health/live`, `GET /health/ready` (200/503 with a
 * JSON report of each check) and `GET /metrics` (Prometheus text) next to its own routes.
 */
export async function startHttpService(options: HttpServiceOptions): Promise<HttpService> {
  const { log, metrics } = options;
  let draining = false;
  const app = express();
  app.disable("x-powered-by");
  app.get("/health/live", (_req, res) => { res.json({ status: "ok" }); });
  app.get("/health/ready", async (_req, res) => {
    if (draining) {
      res.status(503).json({ ready: false, checks: { shutdown: "draining" } });
      return;
    }
    const report = await checkReadiness(options.readiness);
    res.status(report.ready ? 200 : 503).json({ ...report, ...options.readinessDetails?.() });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const server = http.createServer(app);
  await options.mount(app, server);
  // A malformed request body (e.g. invalid JSON) is the client's error: answer it as GraphQL does, never with HTML.
  app.use((error: Error & { status?: number }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error.status && error.status < 500 ? error.status : 500;
    if (status === 500) log.error({ err: error }, "unhandled HTTP error");
    res.status(status).json({ errors: [{ message: status === 500 ? "internal error" : error.message, extensions: { code: status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST" } }] });
  });
  server.listen(options.port, options.host ?? "0.0.0.0");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  log.info({ port }, `${options.name} listening on ${url}`);

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    shutdownPromise ??= (async () => {
      log.info({ reason }, "shutting down: readiness is now 503, draining in-flight requests");
      draining = true;
      if (options.shutdownDelayMs) await new Promise((resolve) => setTimeout(resolve, options.shutdownDelayMs));
      await options.beforeDrain?.();
      await drain(server, options.shutdownTimeoutMs, log);
      await options.close?.();
      log.info("shutdown complete");
    })();
    return shutdownPromise;
  };
  return { server, log, port, url, shutdown };
}

/** Stops accepting connections and waits for in-flight requests, force-closing after `timeoutMs`. */
async function drain(server: http.Server, timeoutMs: number, log: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets become idle once their response is sent; close them as they do.
  const idleSweeper = setInterval(() => server.closeIdleConnections(), 100);
  const deadline = setTimeout(() => {
    log.warn({ timeoutMs }, "in-flight requests did not finish in time; closing their connections");
    server.closeAllConnections();
  }, timeoutMs);
  server.closeIdleConnections();
  await closed;
  clearInterval(idleSweeper);
  clearTimeout(deadline);
}

/**
 * Runs `service.shutdown` on SIGTERM/SIGINT and exits 0 when it completes
 * (1 if closing failed). A second signal exits at once.
 */
export function exitOnSignals({ shutdown, log }: Pick<HttpService, "shutdown" | "log">): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/**
 * Entry point of a service process: validates the environment (exit 1 listing every
 * problem), starts the service, and shuts it down gracefully on SIGTERM/SIGINT.
 */
export async function runService<S extends z.ZodType>(
  name: string,
  envSchema: S,
  start: (env: z.infer<S>) => Promise<Pick<HttpService, "shutdown" | "log">>,
): Promise<void> {
  const env = loadEnv(name, envSchema);
  exitOnSignals(await start(env));
}

/**
 * Express handler serving an Apollo server's HTTP requests: what `expressMiddleware` of
 * `@as-integrations/express5` does (put `express.json()` before it), minus its per-request
 * costs measured in the router's profile (~3 % of its CPU): the query string is cut from
 * `req.url` instead of parsed with the deprecated `url.parse`, and a complete answer is
 * written with `res.end` (one socket write, `Content-Length` set) instead of Express's
 * `res.send`, which re-parses the content type. `context` builds each request's context;
 * its rejection (e.g. a GraphQLError with `http.status` 401) is answered by Apollo.
 */
export function graphqlHttpHandler<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  context: (args: { req: express.Request; res: express.Response }) => Promise<TContext>,
): express.RequestHandler {
  server.assertStarted("graphqlHttpHandler()");
  return async (req, res) => {
    if (!("body" in req)) {
      res.status(500).send("`req.body` is not set: mount express.json() before the GraphQL handler");
      return;
    }
    const headers = new HeaderMap();
    const incoming = req.headers;
    for (const name in incoming) {
      const value = incoming[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: searchOf(req.url), body: req.body },
      context: () => context({ req, res }),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      const body = response.body.string;
      res.setHeader("content-length", Buffer.byteLength(body));
      if (req.method === "HEAD") res.end();
      else res.end(body);
      return;
    }
    // Incremental delivery (@defer): each part is flushed as it comes.
    for await (const chunk of response.body.asyncIterator) {
      res.write(chunk);
      (res as { flush?: () => void }).flush?.();
    }
    res.end();
  };
}

/** The query string of a request target, `?` included (`""` when none), as `url.parse(url).search` gives it. */
export function searchOf(url: string): string {
  const start = url.indexOf("?");
  const hash = url.indexOf("#");
  if (start < 0 || (hash >= 0 && hash < start)) return "";
  return hash < 0 ? url.slice(start) : url.slice(start, hash);
}

/** Content types read by {@link jsonBody}'s fast path (compared lower-cased); others go to `express.json`. */
const PLAIN_JSON_TYPES: ReadonlySet<string> = new Set(["application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"]);
const FIRST_NON_WHITESPACE = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

/**
 * `express.json({ limit: limitBytes })` (strict, `req.body`; a body over the limit is a
 * 413, invalid JSON a 400, both with body-parser's messages) with a fast path for the
 * usual API request: `application/json` in UTF-8, not compressed, with a Content-Length
 * within the limit. That path reads and parses the body directly, without body-parser's
 * media-type, charset and stream machinery (~2 % of the router's CPU per request); any
 * other request (another charset or type, gzip, chunked, empty, too large) is handed to
 * `express.json` unchanged.
 */
export function jsonBody(limitBytes: number): express.RequestHandler {
  const general = express.json({ limit: limitBytes });
  return (req, res, next) => {
    const { headers } = req;
    const type = headers["content-type"];
    const length = Number(headers["content-length"]);
    if (!(length > 0 && length <= limitBytes) || type === undefined || !PLAIN_JSON_TYPES.has(type.toLowerCase())
      || headers["content-encoding"] !== undefined || headers["transfer-encoding"] !== undefined || req.readableEnded) {
      general(req, res, next);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (error?: Error & { status?: number }) => {
      if (settled) return;
      settled = true;
      req.off("data", onData).off("end", onEnd).off("aborted", onAborted).off("error", onError).off("close", onAborted);
      if (error) return next(error);
      try {
        req.body = parseJsonBody(Buffer.concat(chunks, received).toString("utf8"));
      } catch (parseError) {
        return next(parseError);
      }
      next();
    };
    const onData = (chunk: Buffer) => { chunks.push(chunk); received += chunk.length; };
    const onEnd = () => settle(received === length ? undefined : httpError(400, "request size did not match content length"));
    const onAborted = () => settle(httpError(400, "request aborted"));
    const onError = (error: Error) => settle(Object.assign(error, { status: 400 }));
    req.on("data", onData).once("end", onEnd).once("aborted", onAborted).once("error", onError).once("close", onAborted);
  };
}

function httpError(status: number, message: string): Error & { status: number } {
  return Object.assign(new Error(message), { status });
}

/**
 * A JSON request body as body-parser's strict parser reads it: a BOM is dropped, an empty
 * body is `{}`, anything but an object or array is refused with the message JSON.parse
 * gives for it. @throws SyntaxError with `status` 400.
 */
export function parseJsonBody(raw: string): unknown {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  if (text.length === 0) return {};
  try {
    if (text[0] !== "{" && text[0] !== "[") {
      const first = FIRST_NON_WHITESPACE.exec(text)?.[1];
      if (first !== "{" && first !== "[") throw strictViolation(text, first);
    }
    return JSON.parse(text);
  } catch (error) {
    throw Object.assign(error as Error, { status: 400 });
  }
}

/** The error JSON.parse gives at the first character that is not `{` or `[` (body-parser's wording). */
function strictViolation(text: string, first: string | undefined): SyntaxError {
  const index = first ? text.indexOf(first) : -1;
  const partial = index === -1 ? "" : text.substring(0, index) + "#".repeat(text.length - index);
  try {
    JSON.parse(partial);
    return new SyntaxError("strict violation");
  } catch (error) {
    const message = (error as Error).message.replace(/#+/g, (run) => text.substring(index, index + run.length));
    return new SyntaxError(message);
  }
}
