import { randomUUID } from "node:crypto";
import { z } from "zod";

/** Schema version of every event envelope below; bump it (and keep parsing the old one) on a breaking change. */
export const EVENT_VERSION = 1;

const uuid = z.uuid();
const krw = z.number().int().nonnegative();

/** Payload schema of each event type: the single source of truth for producers and consumers. */
export const eventPayloads = {
  /** reservation -> payment: register the REQUESTED payment (retried until it exists). */
  PaymentRegistrationRequested: z.object({
    amount: krw.positive(),
    carId: z.string().min(1),
    /** Deadline of the unpaid hold (UTC); optional only so events queued before it existed stay valid. */
    expiresAt: z.iso.datetime().optional(),
  }),
  /** payment -> reservation: the payment exists (a PAYMENT_DELAYED reservation becomes RESERVED). */
  PaymentRegistered: z.object({ paymentId: uuid, amount: krw }),
  /** payment -> reservation: the unpaid hold reached its deadline before payment; cancel the reservation (reason EXPIRED). */
  PaymentExpired: z.object({ paymentId: uuid, expiredAt: z.iso.datetime() }),
  /** payment -> rental: the customer paid; the car can be prepared (Rental READY). */
  PaymentCompleted: z.object({ paymentId: uuid, amount: krw, carId: z.string().min(1) }),
  /** reservation -> payment: the customer cancelled; refund or cancel the payment. */
  ReservationCancelled: z.object({ carId: z.string().min(1), amount: krw }),
  /** payment -> rental: compensation done on the payment side; cancel the rental. */
  PaymentCancelled: z.object({ paymentId: uuid, outcome: z.enum(["REFUNDED", "CANCELLED"]), carId: z.string().min(1).nullable() }),
  /** rental -> reservation: the car is ready to be picked up. */
  RentalReady: z.object({ rentalId: uuid, carId: z.string().min(1) }),
  /** rental -> reservation: the customer picked the car up (the reservation can no longer be cancelled). */
  CarPickedUp: z.object({ rentalId: uuid, carId: z.string().min(1) }),
  /** rental -> reservation: the car is back (the reservation is COMPLETED). */
  CarReturned: z.object({ rentalId: uuid, carId: z.string().min(1) }),
  /**
   * rental -> reservation: the rental was cancelled (or refused to exist after a cancellation).
   * `paymentOutcome` repeats the PaymentCancelled outcome it follows, so the read model never shows
   * a cancelled rental next to a live payment (optional: events written before it existed lack it).
   */
  RentalCancelled: z.object({ rentalId: uuid.nullable(), paymentOutcome: z.enum(["REFUNDED", "CANCELLED"]).optional() }),
  /** reservation -> the customer's change log (Redis Stream) -> routers: a "my reservations" row changed; `version` orders changes of one reservation. */
  MyReservationChanged: z.object({
    carId: z.string(),
    status: z.string(),
    paymentStatus: z.string().nullable(),
    rentalStatus: z.string().nullable(),
    /** CUSTOMER or EXPIRED when status is CANCELLED; absent in entries written before it existed. */
    cancellationReason: z.string().nullable().optional(),
    version: z.number().int().positive(),
    updatedAt: z.iso.datetime(),
  }),
} as const;

export type EventType = keyof typeof eventPayloads;
export const EVENT_TYPES = Object.keys(eventPayloads) as EventType[];

/** Fields every event carries; `reservationId` is the saga's correlation key. */
const envelope = {
  eventId: uuid,
  version: z.literal(EVENT_VERSION),
  /** UTC, ISO-8601. */
  occurredAt: z.iso.datetime(),
  reservationId: uuid,
  customerId: z.string().min(1),
};

const eventSchemas = EVENT_TYPES.map((type) =>
  z.object({ ...envelope, type: z.literal(type), payload: eventPayloads[type] }));

/** Runtime schema of any domain event (discriminated on `type`). */
export const domainEventSchema = z.discriminatedUnion("type", eventSchemas as unknown as [typeof eventSchemas[number], ...typeof eventSchemas]);

/** A domain event of type `T`. */
export type DomainEvent<T extends EventType = EventType> = {
  [K in T]: {
    eventId: string;
    type: K;
    version: typeof EVENT_VERSION;
    occurredAt: string;
    reservationId: string;
    customerId: string;
    payload: z.infer<(typeof eventPayloads)[K]>;
  };
}[T];

/**
 * Builds a new event (fresh `eventId`, `occurredAt` now, current version), validated.
 * @throws ZodError when the payload does not match the contract (a producer bug).
 */
export function createEvent<T extends EventType>(
  type: T,
  correlation: { reservationId: string; customerId: string },
  payload: z.infer<(typeof eventPayloads)[T]>,
): DomainEvent<T> {
  const event = {
    eventId: randomUUID(),
    type,
    version: EVENT_VERSION,
    occurredAt: new Date().toISOString(),
    reservationId: correlation.reservationId,
    customerId: correlation.customerId,
    payload,
  };
  return domainEventSchema.parse(event) as DomainEvent<T>;
}

/** Everything of a new event but its payload (fresh `eventId`, `occurredAt` now, current version). */
export type EventEnvelope<T extends EventType = EventType> = Omit<DomainEvent<T>, "payload">;

/**
 * The envelope of a new event whose payload a SQL statement builds from the rows it writes
 * ({@link outboxInsertSelectSql}), so the statement need not be preceded by a read of them.
 * @throws ZodError when the correlation is not valid (a producer bug).
 */
export function createEventEnvelope<T extends EventType>(type: T, correlation: { reservationId: string; customerId: string }): EventEnvelope<T> {
  return {
    eventId: randomUUID(),
    type,
    version: EVENT_VERSION,
    occurredAt: new Date().toISOString(),
    reservationId: envelope.reservationId.parse(correlation.reservationId),
    customerId: envelope.customerId.parse(correlation.customerId),
  } as EventEnvelope<T>;
}

/** Validates untrusted data (a queue job) as a domain event; returns the reasons when it is not one. */
export function parseEvent(data: unknown): { ok: true; event: DomainEvent } | { ok: false; reason: string } {
  const result = domainEventSchema.safeParse(data);
  if (result.success) return { ok: true, event: result.data as DomainEvent };
  return { ok: false, reason: result.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; ") };
}
