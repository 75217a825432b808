import { withTimeout } from "@rentcar/platform";
import type { Redis } from "ioredis";
import type { DomainEvent } from "./contracts.ts";
import { queueCache } from "./queue-cache.ts";
import { broadcastChannel, BROADCASTS, JOB_OPTIONS, queueName, ROUTES, type ConsumerName } from "./routing.ts";

const PUBLISH_TIMEOUT_MS = 3_000;

/** Publishes events to the queues of their consumers (per {@link ROUTES}). */
export interface EventPublisher {
  /** @throws when Redis does not accept the jobs (the caller keeps the events and retries). */
  publish(events: DomainEvent[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * BullMQ publisher: one job per event and consumer, `jobId` = `eventId`, so publishing
 * the same event again (after a crash between publish and mark-sent) adds nothing.
 */
export function createPublisher(connection: Redis, prefix: string): EventPublisher {
  const queues = queueCache(connection, prefix, { defaultJobOptions: JOB_OPTIONS });
  const publishTo = async (consumer: ConsumerName, batch: DomainEvent[]) => {
    const name = queueName(consumer);
    try {
      await queues.get(name).addBulk(batch.map((event) => ({ name: event.type, data: event, opts: { jobId: event.eventId } })));
    } catch (error) {
      queues.invalidate(name);
      throw error;
    }
  };
  return {
    async publish(events) {
      const byConsumer = new Map<ConsumerName, DomainEvent[]>();
      const broadcasts = events.filter((event) => BROADCASTS.has(event.type));
      for (const event of events) {
        for (const consumer of ROUTES[event.type]) byConsumer.set(consumer, [...(byConsumer.get(consumer) ?? []), event]);
      }
      // Fail fast while Redis is unreachable: the caller keeps the events and retries.
      await withTimeout(Promise.all([
        ...[...byConsumer].map(([consumer, batch]) => publishTo(consumer, batch)),
        ...broadcasts.map((event) => connection.publish(broadcastChannel(prefix), JSON.stringify(event))),
      ]), PUBLISH_TIMEOUT_MS,
        `Redis did not accept the events within ${PUBLISH_TIMEOUT_MS} ms`);
    },
    close: () => queues.close(),
  };
}
