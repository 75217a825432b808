import { broadcastChannel, parseEvent, type DomainEvent } from "@rentcar/events";
import { connectRedis, type Logger, type RedisClient } from "@rentcar/platform";

export type ChangeListener = (change: DomainEvent<"MyReservationChanged">) => void;

/**
 * Fan-out of "my reservations" changes inside one router replica: one Redis
 * subscription (channel `<QUEUE_PREFIX>:my-reservation-changed`, published by the
 * reservation subgraph after commit) feeds every local subscriber of that customer.
 */
export function createChangeHub(redisUrl: string, prefix: string, log: Logger) {
  const listeners = new Map<string, Set<ChangeListener>>();
  const subscriber: RedisClient = connectRedis(redisUrl, log.child({ component: "change-hub" }));
  const ready = subscriber.subscribe(broadcastChannel(prefix), (message) => {
    const parsed = parseEvent(JSON.parse(message));
    if (!parsed.ok || parsed.event.type !== "MyReservationChanged") {
      log.warn({ reason: parsed.ok ? parsed.event.type : parsed.reason }, "ignored a malformed change notification");
      return;
    }
    const change = parsed.event as DomainEvent<"MyReservationChanged">;
    for (const listener of listeners.get(change.customerId) ?? []) listener(change);
  }).catch((error: Error) => log.error({ err: error.message }, "cannot subscribe to reservation changes"));
  return {
    ready,
    /** Registers a listener for one customer's changes; returns the function that removes it. */
    listen(customerId: string, listener: ChangeListener): () => void {
      const set = listeners.get(customerId) ?? new Set();
      set.add(listener);
      listeners.set(customerId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(customerId);
      };
    },
    /** Readiness: the subscription connection is up (node-redis resubscribes after a reconnect). */
    async check(): Promise<void> {
      await ready;
      if (!subscriber.isReady) throw new Error("not connected to Redis");
    },
    get subscriberCount(): number {
      return [...listeners.values()].reduce((n, set) => n + set.size, 0);
    },
    close: () => subscriber.close().catch(() => subscriber.destroy()),
  };
}

export type ChangeHub = ReturnType<typeof createChangeHub>;
