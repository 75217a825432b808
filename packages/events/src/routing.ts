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
 * (about 17 minutes in all) before the job is dead-lettered. Completed jobs are kept a
 * day so a re-published event (same jobId = eventId) is recognised and dropped by BullMQ.
 */
export const JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;
