import { withTimeout } from "@rentcar/platform";
import type { Redis } from "ioredis";
import { appendToChangeLog, DEFAULT_CHANGE_LOG_RETENTION_MS } from "./change-log.ts";
import type { DomainEvent } from "./contracts.ts";
import { queueCache } from "./queue-cache.ts";
import { BROADCASTS, JOB_OPTIONS, queueName, ROUTES, type ConsumerName } from "./routing.ts";

const PUBLISH_TIMEOUT_MS = 3_000;

/** Publishes events to the queues of their consumers (per {@link ROUTES}). */
export interface EventPublisher {
  /** @throws when Redis does not accept the jobs (the caller keeps the events and retries). */
  publish(events: DomainEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface PublisherOptions {
  /** How long the per-customer change log keeps entries, in ms (`CHANGE_LOG_RETENTION`, default 24 h). */
  changeLogRetentionMs?: number;
}

/**
 * BullMQ publisher: one job per event and consumer, `jobId` = `eventId`, so publishing
 * the same event again (after a crash between publish and mark-sent) adds nothing.
 * Broadcast events (MyReservationChanged) are appended to their customer's change log
 * instead (see change-log.ts), idempotently too.
 */
export function createPublisher(connection: Redis, prefix: string, options: PublisherOptions = {}): EventPublisher {
  const retentionMs = options.changeLogRetentionMs ?? DEFAULT_CHANGE_LOG_RETENTION_MS;
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
      const broadcasts = events.filter((event) => BROADCASTS.has(event.type)) as DomainEvent<"MyReservationChanged">[];
      for (const event of events) {
        for (const consumer of ROUTES[event.type]) byConsumer.set(consumer, [...(byConsumer.get(consumer) ?? []), event]);
      }
      // Fail fast while Redis is unreachable: the caller keeps the events and retries.
      await withTimeout(Promise.all([
        ...[...byConsumer].map(([consumer, batch]) => publishTo(consumer, batch)),
        // In the given order: the relay's change lane hands one reservation's versions over in order.
        ...(broadcasts.length ? [appendToChangeLog(connection, prefix, retentionMs, broadcasts)] : []),
      ]), PUBLISH_TIMEOUT_MS,
        `Redis did not accept the events within ${PUBLISH_TIMEOUT_MS} ms`);
    },
    close: () => queues.close(),
  };
}
