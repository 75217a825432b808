import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { GraphQLFormattedError } from "graphql";
import { Counter, Gauge, type Registry } from "prom-client";
import { z } from "zod";
import { ErrorCode } from "./errors.ts";

/**
 * Admission control settings (env), the same names in every service. A request runs when
 * fewer than ADMISSION_MAX_CONCURRENT run; otherwise it waits in a FIFO queue of at most
 * ADMISSION_MAX_QUEUED for at most ADMISSION_MAX_QUEUE_WAIT_MS. A request that finds the
 * queue full, or waits too long, is refused with HTTP 503, `Retry-After` and
 * `extensions.code = "OVERLOADED"` before any of its work starts, so a refused mutation
 * never leaves a half-done write and the client can simply retry.
 *
 * Why these defaults (router 64 running; subgraphs 16, see subgraph-env.ts; 256 queued; 1 s):
 * - the wait bound comes first: a request may wait at most 1 s, so queueing plus service
 *   time stays well inside the router's 5 s SUBGRAPH_TIMEOUT_MS (a call the router gives up
 *   on has an unknown outcome; a refused one has none) and under the clients' own timeouts;
 * - 256 queued is only a memory bound: at the measured capacity of this 2-core machine
 *   (35-48 sagas/s, i.e. ~100 subgraph requests/s per subgraph) fewer than 256 requests
 *   can arrive within the 1 s wait, so requests are refused by the wait, never by the
 *   length, unless a burst arrives at once;
 * - the concurrency is set by where the work waits: a subgraph's running requests share a
 *   pool of 10 connections and a CPU-bound process, so more than ~16 only adds latency to
 *   each (Little's law); measured figures and the pool reasoning are in subgraph-env.ts.
 * These are per process: with more cores or replicas, raise the concurrency, not the wait.
 */
export const admissionEnvSchema = z.object({
  ADMISSION_MAX_CONCURRENT: z.coerce.number().int().positive().default(64),
  ADMISSION_MAX_QUEUED: z.coerce.number().int().min(0).default(256),
  ADMISSION_MAX_QUEUE_WAIT_MS: z.coerce.number().int().positive().default(1_000),
  /** `Retry-After` of a refusal, in seconds. */
  ADMISSION_RETRY_AFTER_S: z.coerce.number().int().positive().default(1),
});
export type AdmissionEnv = z.infer<typeof admissionEnvSchema>;

/** Why a request was refused (the `reason` label of `admission_rejected_total`). */
export type ShedReason = "queue_full" | "queue_timeout";

export interface Admission {
  /** Express middleware: put it before body parsing and GraphQL execution. */
  middleware: RequestHandler;
  /** Requests running and waiting now. */
  stats(): { running: number; queued: number };
}

/**
 * Bounded concurrency with a bounded, time-limited FIFO queue in front of a handler
 * (see {@link admissionEnvSchema}). Exposes `admission_running`, `admission_queued` and
 * `admission_rejected_total{reason}` on the registry.
 */
export function createAdmission(env: AdmissionEnv, registry?: Registry): Admission {
  let running = 0;
  const queue: { admit(): void }[] = [];
  const registers = registry ? [registry] : [];
  new Gauge({ name: "admission_running", help: "Requests admitted and running", registers, collect() { this.set(running); } });
  new Gauge({ name: "admission_queued", help: "Requests waiting for admission", registers, collect() { this.set(queue.length); } });
  const rejected = new Counter({ name: "admission_rejected_total", help: "Requests refused with 503 OVERLOADED before any work, by reason", labelNames: ["reason"] as const, registers });

  const release = () => {
    const next = queue.shift();
    if (next) next.admit(); // the slot passes straight to the oldest waiter
    else running--;
  };
  const refuse = (res: Response, reason: ShedReason) => {
    rejected.inc({ reason });
    res.status(503).set("Retry-After", String(env.ADMISSION_RETRY_AFTER_S)).json({ errors: [overloadedError(undefined, env.ADMISSION_RETRY_AFTER_S)] });
  };

  const middleware = (_req: Request, res: Response, next: NextFunction) => {
    const start = () => {
      // "close" fires once the response is sent or the client went away: the slot is freed either way.
      res.once("close", release);
      next();
    };
    if (running < env.ADMISSION_MAX_CONCURRENT) {
      running++;
      return start();
    }
    if (queue.length >= env.ADMISSION_MAX_QUEUED) return refuse(res, "queue_full");
    const waiter = {
      admit: () => {
        clearTimeout(timer);
        res.off("close", gone);
        start();
      },
    };
    const leave = () => {
      const index = queue.indexOf(waiter);
      if (index >= 0) queue.splice(index, 1);
    };
    const timer = setTimeout(() => { res.off("close", gone); leave(); refuse(res, "queue_timeout"); }, env.ADMISSION_MAX_QUEUE_WAIT_MS);
    // A client that gives up while waiting leaves the queue (nothing ran for it).
    const gone = () => { clearTimeout(timer); leave(); };
    res.once("close", gone);
    queue.push(waiter);
  };
  return { middleware, stats: () => ({ running, queued: queue.length }) };
}

/** Seconds to wait if `error` is an OVERLOADED refusal (ours, or a subgraph's relayed by the gateway), else undefined. */
function overloadedRetryAfter(error: GraphQLFormattedError): number | undefined {
  const ext = error.extensions as { code?: unknown; retryAfterSeconds?: unknown; response?: { body?: { errors?: GraphQLFormattedError[] } } } | undefined;
  const own = ext?.code === ErrorCode.OVERLOADED ? ext : undefined;
  const relayed = ext?.response?.body?.errors?.find((e) => e.extensions?.code === ErrorCode.OVERLOADED)?.extensions;
  const source = own ?? relayed;
  if (!source) return undefined;
  return typeof source.retryAfterSeconds === "number" ? source.retryAfterSeconds : 1;
}

/**
 * Router plugin: a subgraph that refused a call with OVERLOADED (503) reaches the client
 * as `extensions.code = "OVERLOADED"` with `retryAfterSeconds` (not as an internal error
 * carrying the subgraph's URL), and when nothing of the operation ran — no data — the
 * response is HTTP 503 with `Retry-After`, exactly like a refusal by the router's own
 * admission control. Nothing ran for a refused call, so a retry is always safe.
 */
export function overloadedResponsePlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== "single") return;
          const result = response.body.singleResult;
          if (!result.errors?.length) return;
          let retryAfter = 0;
          let allOverloaded = true;
          const errors = result.errors.map((error) => {
            const seconds = overloadedRetryAfter(error);
            if (seconds === undefined) {
              allOverloaded = false;
              return error;
            }
            retryAfter = Math.max(retryAfter, seconds);
            return {
              message: `a service is at capacity; nothing was done, retry after ${seconds} s`,
              ...(error.path ? { path: error.path } : {}),
              extensions: { code: ErrorCode.OVERLOADED, retryAfterSeconds: seconds },
            };
          });
          if (!retryAfter) return;
          response.body.singleResult = { ...result, errors };
          const nothingRan = result.data == null || Object.values(result.data).every((value) => value === null);
          if (allOverloaded && nothingRan) {
            response.http.status = 503;
            response.http.headers.set("retry-after", String(retryAfter));
          }
        },
      };
    },
  };
}

/**
 * True when `error` (or an error it wraps) says the database had no connection to spare in
 * time: Prisma's P2028 "Unable to start a transaction in the given time" or pg's pool
 * "timeout exceeded when trying to connect". Such a statement never ran, so the request
 * is answered OVERLOADED (retry later) rather than INTERNAL_SERVER_ERROR.
 */
export function isCapacityError(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === "P2028") return true;
    if (typeof e.message === "string" && /Unable to start a transaction in the given time|timeout exceeded when trying to connect/.test(e.message)) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/** The OVERLOADED error a subgraph answers when its database pool could not serve a request in time. */
export function overloadedError(path: GraphQLFormattedError["path"], retryAfterSeconds = 1): GraphQLFormattedError {
  return {
    message: `the service is at capacity; retry after ${retryAfterSeconds} s`,
    ...(path ? { path } : {}),
    extensions: { code: ErrorCode.OVERLOADED, retryAfterSeconds },
  };
}
