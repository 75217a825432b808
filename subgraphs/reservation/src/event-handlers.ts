import type { DomainEvent, EventHandlers, EventType, OutboxLane, SelfRecordingHandler, SqlClient, TransactionalClient } from "@rentcar/events";
import type { Reservation } from "./generated/prisma/client.ts";
import { project, projectEvent, type ProjectOptions } from "./my-reservations.ts";
import { ACTIVE_STATUSES, cancelActive } from "./reservations.ts";
import { RESERVATION_COLUMNS } from "./sql.ts";

/** The consumer's transaction: plain SQL in the service, a Prisma transaction client in some tests. */
type Tx = SqlClient;

const isActive = (status: string) => (ACTIVE_STATUSES as readonly string[]).includes(status);

/**
 * A handler whose whole effect is one {@link project} call: applied on its own in two round
 * trips by the consumer ({@link projectEvent}), or inside a caller's transaction.
 */
function projecting<T extends EventType>(optionsOf: (event: DomainEvent<T>) => ProjectOptions): SelfRecordingHandler<Tx, T> {
  return Object.assign(
    async (event: DomainEvent<T>, tx: Tx) => { await project(tx, event.reservationId, optionsOf(event)); },
    { applyAlone: (event: DomainEvent<T>, db: Tx & TransactionalClient<Tx>) => projectEvent(db, event, optionsOf(event)) },
  );
}

/** The payment exists (registered in the background): PAYMENT_DELAYED -> RESERVED. */
const onPaymentRegistered = projecting<"PaymentRegistered">((event) => ({
  change: { paymentStatus: "REQUESTED" },
  patch: (r) => ({ paymentId: r.paymentId ?? event.payload.paymentId, ...(r.status === "PAYMENT_DELAYED" ? { status: "RESERVED" } : {}) }),
}));

/** Rental handed the car over: from now on the reservation cannot be cancelled. */
const onCarPickedUp = projecting<"CarPickedUp">((event) => ({
  change: { rentalStatus: "PICKED_UP" },
  patch: (r) => ({ pickedUpAt: r.pickedUpAt ?? new Date(event.occurredAt) }),
}));

/**
 * The car is back: the reservation is COMPLETED (which also frees the rest of its period),
 * from any active status: PaymentRegistered may still be on its way (PAYMENT_DELAYED), and
 * when it arrives it only moves PAYMENT_DELAYED forward, never a COMPLETED reservation back.
 */
const onCarReturned = projecting<"CarReturned">((event) => ({
  change: { rentalStatus: "RETURNED" },
  patch: (r) => ({ pickedUpAt: r.pickedUpAt ?? new Date(event.occurredAt), ...(isActive(r.status) ? { status: "COMPLETED" } : {}) }),
}));

/** Payment reported the payment: the reservation is no longer an unpaid hold (MAX_UNPAID_HOLDS). */
const onPaymentCompleted = projecting<"PaymentCompleted">((event) => ({
  change: { paymentStatus: "PAID" },
  patch: (r) => ({ paidAt: r.paidAt ?? new Date(event.occurredAt) }),
}));

/**
 * Payment expired the unpaid hold (it alone decides paid vs expired, on its payment row): the
 * reservation is cancelled with reason EXPIRED through the normal cancellation step (its
 * ReservationCancelled finds the payment already CANCELLED). A reservation the customer
 * cancelled meanwhile keeps reason CUSTOMER; the view learns the payment is CANCELLED either way.
 */
async function onPaymentExpired(event: DomainEvent<"PaymentExpired">, tx: Tx): Promise<void> {
  const [reservation] = await tx.$queryRawUnsafe<Reservation[]>(`SELECT ${RESERVATION_COLUMNS} FROM reservation r WHERE r.id = $1::uuid`, event.reservationId);
  if (reservation) await cancelActive(tx, reservation, "EXPIRED");
  await project(tx, event.reservationId, { change: { paymentStatus: "CANCELLED" } });
}

/**
 * The outbox lane a handler above writes to: only PaymentExpired (which cancels: ReservationCancelled)
 * writes a saga event; every other one writes only MyReservationChanged. Keep in step with the handlers.
 */
export const laneWrittenByHandler = (event: DomainEvent): OutboxLane | undefined => (event.type === "PaymentExpired" ? undefined : "changes");

/**
 * Events the reservation subgraph consumes (the last four only feed the read model). Each
 * handler is a monotonic merge (statuses only move forward, fields are set once), so any
 * order and any number of deliveries of a saga's events end in the same state.
 */
export const reservationEventHandlers: EventHandlers<Tx> = {
  PaymentRegistered: onPaymentRegistered,
  CarPickedUp: onCarPickedUp,
  CarReturned: onCarReturned,
  PaymentCompleted: onPaymentCompleted,
  PaymentExpired: onPaymentExpired,
  PaymentCancelled: projecting<"PaymentCancelled">((event) => ({ change: { paymentStatus: event.payload.outcome } })),
  RentalReady: projecting<"RentalReady">(() => ({ change: { rentalStatus: "READY" } })),
  RentalCancelled: projecting<"RentalCancelled">((event) => ({ change: { rentalStatus: "CANCELLED", paymentStatus: event.payload.paymentOutcome } })),
};
