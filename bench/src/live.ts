import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { BenchStack } from "./bench-stack.ts";
import type { Cleanup } from "./cleanup.ts";

/** A change pushed to a subscriber, with the time it arrived (performance.now()). */
export interface ReceivedChange {
  reservationId: string;
  status: string;
  paymentStatus: string | null;
  at: number;
}

export interface LiveSubscriber {
  /** Resolves with the first change of `reservationId` that satisfies `match` (also one already received). */
  waitFor(reservationId: string, match: (change: ReceivedChange) => boolean, timeoutMs: number, what: string): Promise<ReceivedChange>;
  close(): Promise<void>;
}

const SUBSCRIPTION = "subscription { myReservationChanged { reservationId status paymentStatus } }";

/**
 * Subscribes to every change of `customerId`'s reservations through the router (graphql-ws)
 * and keeps them per reservation; resolves once the subscription is acknowledged.
 * The socket is closed by `cleanup` too.
 */
export async function subscribeChanges(stack: BenchStack, customerId: string, cleanup: Cleanup, timeoutMs = 10_000): Promise<LiveSubscriber> {
  const received = new Map<string, ReceivedChange[]>();
  const waiters = new Set<() => void>();
  const { authorization } = await stack.auth(customerId);
  let failure: Error | undefined;
  const client: Client = createClient({
    url: stack.routerUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization },
    retryAttempts: 0,
    lazy: false,
  });
  cleanup.add(`close the subscription of ${customerId}`, async () => { await client.dispose(); });
  const acknowledged = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`subscription of ${customerId} not acknowledged within ${timeoutMs} ms`)), timeoutMs);
    client.on("connected", () => { clearTimeout(timer); resolve(); });
    client.on("closed", (event) => { clearTimeout(timer); reject(new Error(`subscription socket closed: ${JSON.stringify(event && (event as { code?: number }).code)}`)); });
  });
  client.subscribe<{ myReservationChanged: Omit<ReceivedChange, "at"> }>({ query: SUBSCRIPTION }, {
    next: ({ data, errors }) => {
      if (errors?.length) failure = new Error(`subscription error: ${errors[0]!.message}`);
      const change = data?.myReservationChanged;
      if (!change) return;
      const list = received.get(change.reservationId) ?? [];
      list.push({ ...change, at: performance.now() });
      received.set(change.reservationId, list);
      for (const wake of waiters) wake();
    },
    error: (error) => { failure = error instanceof Error ? error : new Error(`subscription ended: ${JSON.stringify(error).slice(0, 200)}`); for (const wake of waiters) wake(); },
    complete: () => {},
  });
  await acknowledged;
  return {
    waitFor(reservationId, match, waitMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = received.get(reservationId)?.find(match);
          if (hit) return done(() => resolve(hit));
          if (failure) return done(() => reject(failure));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${what} message within ${waitMs} ms`))), waitMs);
        const done = (settle: () => void) => { clearTimeout(timer); waiters.delete(check); settle(); };
        waiters.add(check);
        check();
      });
    },
    close: async () => { await client.dispose(); },
  };
}
