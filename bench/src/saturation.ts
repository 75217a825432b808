import { randomUUID } from "node:crypto";
import type { BenchStack } from "./bench-stack.ts";
import { errorCodeOf, graphqlClient, type GraphQLHttpClient, type GraphQLReply } from "./http.ts";
import { runLoad, sleep, startOpenLoop } from "./load.ts";
import { CARD, PAY, RESERVE } from "./saga.ts";
import { summarize, type LatencySummary } from "./stats.ts";

/** What an overload run produced; `errors` are answers a client must never get (INTERNAL_SERVER_ERROR, timeouts, ...). */
export interface OverloadOutcome {
  offeredPerS: number;
  /** Sagas that reserved and paid. */
  completed: number;
  completedPerS: number;
  /** Requests refused with 503 / OVERLOADED / Retry-After before any work (not errors). */
  shed: number;
  /**
   * Mutations still answered SERVICE_UNAVAILABLE after 3 retries with their Idempotency-Key
   * (the router's subgraph deadline or breaker): not an internal error, but not graceful either.
   */
  unavailable: number;
  /** Reservations answered PAYMENT_DELAYED (payment registration left to the background). */
  delayed: number;
  reserve: LatencySummary;
  errors: Record<string, number>;
  errorCount: number;
}

/** Closed-loop sagas per second at `concurrency` over `durationMs`: the capacity the overload run doubles. */
export async function measureCapacity(stack: BenchStack, durationMs: number, signal: AbortSignal, concurrency = 32): Promise<number> {
  let completed = 0;
  const result = await runLoad({
    concurrency,
    durationMs,
    signal,
    async task(worker) {
      const outcome = await saga(stack, stack.router, `bench-capacity-${worker}`);
      if (outcome.kind === "completed") completed++;
      return outcome.kind === "error" ? outcome.code : undefined;
    },
  });
  return completed / (result.wallMs / 1000);
}

type SagaResult = { kind: "completed" | "shed" | "unavailable" | "error"; code?: string; delayed?: boolean; reserveMs?: number };

/** Classifies a reply: success, a clean shed (HTTP 503 + OVERLOADED + Retry-After), or an error code. */
function classify(reply: GraphQLReply): "ok" | "shed" | "unavailable" | string {
  const code = errorCodeOf(reply);
  if (!code) return "ok";
  if (code === "SERVICE_UNAVAILABLE") return "unavailable";
  if (code === "OVERLOADED") return reply.status === 503 && reply.retryAfterS !== undefined ? "shed" : `OVERLOADED without 503 + Retry-After (HTTP ${reply.status})`;
  // Expected domain answers keep just their code; anything else keeps its message for diagnosis.
  return code === "NOT_FOUND" || code === "CONFLICT" ? code : `${code}: ${reply.errors?.[0]?.message.slice(0, 120) ?? `HTTP ${reply.status}`}`;
}

/**
 * One customer saga as a well-behaved client runs it: reserveCar, then payReservation;
 * after PAYMENT_DELAYED it retries NOT_FOUND payments (registration still in flight) for
 * up to 15 s, as the paymentNotice asks. A shed request ends the saga (the client would retry later).
 */
async function saga(stack: BenchStack, router: GraphQLHttpClient, customerId: string): Promise<SagaResult> {
  const auth = await stack.auth(customerId);
  const t0 = performance.now();
  const reserved = await withRetries(() => router.post<{ reserveCar: { id: string; status: string } }>(RESERVE, { input: stack.nextSlot() }, { ...auth, ...key() }, 30_000));
  const reserveMs = performance.now() - t0;
  const r = classify(reserved);
  if (r === "shed") return { kind: "shed", reserveMs };
  if (r === "unavailable") return { kind: "unavailable", reserveMs };
  if (r !== "ok") return { kind: "error", code: `reserveCar ${r}`, reserveMs };
  const { id, status } = reserved.data!.reserveCar;
  const delayed = status === "PAYMENT_DELAYED";
  const deadline = performance.now() + 15_000;
  for (;;) {
    const payKey = key();
    const paid = await withRetries(() => router.post(PAY, { input: { reservationId: id, cardNumber: CARD } }, { ...auth, ...payKey }, 30_000));
    const p = classify(paid);
    if (p === "ok") return { kind: "completed", delayed, reserveMs };
    if (p === "shed") return { kind: "shed", delayed, reserveMs };
    if (p === "unavailable") return { kind: "unavailable", delayed, reserveMs };
    if (p === "NOT_FOUND" && delayed && performance.now() < deadline) {
      await sleep(500);
      continue;
    }
    return { kind: "error", code: `payReservation ${p}${delayed ? " (after PAYMENT_DELAYED)" : ""}`, delayed, reserveMs };
  }
}

/** A fresh Idempotency-Key header: a mutation retried with it has exactly one effect. */
const key = () => ({ "idempotency-key": randomUUID() });

/**
 * Sends a mutation (the closure reuses one Idempotency-Key) and, when the outcome is
 * unknown — SERVICE_UNAVAILABLE: the router gave up waiting on a subgraph, which may have
 * committed — sends it again up to 3 times, 1 s apart, as the idempotency contract allows.
 */
async function withRetries<T extends Record<string, any>>(send: () => Promise<GraphQLReply<T>>): Promise<GraphQLReply<T>> {
  let reply = await send();
  for (let attempt = 0; attempt < 3 && errorCodeOf(reply) === "SERVICE_UNAVAILABLE"; attempt++) {
    await sleep(1_000);
    reply = await send();
  }
  return reply;
}

/** Sockets of the overload client: above the router's ADMISSION_MAX_CONCURRENT + ADMISSION_MAX_QUEUED (64 + 256). */
const OVERLOAD_CONNECTIONS = 1_024;

/** Starts sagas at `ratePerS` (open loop, as independent customers would) for `durationMs`, then waits for the ones in flight. */
export async function overload(stack: BenchStack, ratePerS: number, durationMs: number, signal: AbortSignal): Promise<OverloadOutcome> {
  let completed = 0;
  let shed = 0;
  let unavailable = 0;
  let delayed = 0;
  const reserveMs: number[] = [];
  // Independent customers each bring their own connection: more sockets than the router admits
  // (running + queued), so the router's admission control, not this client's pool, decides who
  // waits and who is shed. With the shared 128-socket client the excess queued here instead,
  // unseen by the router, until the in-flight cap refused to start sagas.
  const router = graphqlClient(stack.routerUrl, OVERLOAD_CONNECTIONS);
  const loop = startOpenLoop({
    ratePerS,
    maxInFlight: 2_000,
    async task(i) {
      const outcome = await saga(stack, router, `bench-overload-${i % 500}`);
      if (outcome.kind === "completed") { completed++; reserveMs.push(outcome.reserveMs!); }
      if (outcome.kind === "shed") shed++;
      if (outcome.kind === "unavailable") unavailable++;
      if (outcome.delayed) delayed++;
      return outcome.kind === "error" ? outcome.code : undefined;
    },
  });
  await sleep(durationMs, signal).catch(() => {});
  const result = await loop.stop().finally(() => router.close());
  return {
    offeredPerS: result.ratePerS,
    completed,
    completedPerS: completed / (durationMs / 1000),
    shed,
    unavailable,
    delayed,
    reserve: summarize(reserveMs),
    errors: { ...result.errors, ...(result.skipped ? { [`${result.skipped} sagas not started: 2000 in flight`]: result.skipped } : {}) },
    errorCount: result.errorCount + result.skipped,
  };
}
