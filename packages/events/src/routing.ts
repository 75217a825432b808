import type { EventType } from "./contracts.ts";

/** The subgraphs that consume events; each has one queue. */
export type ConsumerName = "reservation" | "payment" | "rental";

/** Which consumers receive each event type (publish/subscribe over one queue per consumer). */
export const ROUTES: Record<EventType, readonly ConsumerName[]> = {
  PaymentRegistrationRequested: ["payment"],
  PaymentRegistered: ["reservation"],
  PaymentCompleted: ["rental", "reservation"],
  PaymentExpired: ["reservation"],
  ReservationCancelled: ["payment"],
  PaymentCancelled: ["rental", "reservation"],
  RentalReady: ["reservation"],
  CarPickedUp: ["reservation"],
  CarReturned: ["reservation"],
  RentalCancelled: ["reservation"],
  MyReservationChanged: [],
};

/**
 * Events appended to the customer's change log (a Redis Stream, change-log.ts) instead of
 * a queue: every router replica reads it for its own subscribers. The outbox relays them
 * in a lane of their own (one relay at a time, in commit order), see outbox-relay.ts.
 */
export const BROADCASTS: ReadonlySet<EventType> = new Set(["MyReservationChanged"]);

/** Queue of a consumer, e.g. `payment-events`. */
export const queueName = (consumer: ConsumerName) => `${consumer}-events`;
/** Dead-letter queue of a consumer: jobs that failed validation or exhausted their retries, with the reason. */
export const deadLetterQueueName = (consumer: ConsumerName) => `${consumer}-events-dead-letter`;

/**
 * Retry policy of every event job: 12 attempts with exponential backoff from 500 ms
 * (about 17 minutes in all) before the job is dead-lettered.
 *
 * Completed jobs are kept at most an hour and at most 10,000 per queue, so Redis memory
 * stays bounded under any load: a completed job costs about 1.45 KB (its hash ~1.3 KB plus
 * its entry in the completed set, measured with MEMORY USAGE on a PaymentCompleted job), so
 * at most ~15 MB per queue, ~45 MB for the three (the former 100,000 per queue and a day was
 * ~435 MB, reached in about 10 minutes at 150 sagas/s). Keeping them only lets BullMQ drop
 * a re-published event (same jobId = eventId) itself; that happens seconds after the first
 * publish (a relay that died between publishing and committing), and the consumers'
 * inbox makes a later duplicate harmless anyway. Failed jobs (only those BullMQ failed
 * outside the processor, e.g. stalled too often) are kept a week with no count limit, so
 * none is dropped before an operator retries it.
 */
export const JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;
