import { appendToOutbox, createEvent, type DomainEvent, type EventHandlers } from "@rentcar/events";
import type { SqlClient } from "@rentcar/platform";
import { compensatePayment, insertCancelledPayment } from "./payment-sql.ts";
import { upsertRequestedPayment } from "./payments.ts";

/** Handlers run on plain SQL (the consumer's transaction, or a Prisma transaction in tests). */
type Tx = SqlClient;

/**
 * Background registration of a payment whose synchronous registration failed (or
 * whose outcome the reservation subgraph could not see). Idempotent; always answers
 * PaymentRegistered so the reservation leaves PAYMENT_DELAYED.
 */
async function onPaymentRegistrationRequested(event: DomainEvent<"PaymentRegistrationRequested">, tx: Tx): Promise<void> {
  const payment = await upsertRequestedPayment(tx, {
    reservationId: event.reservationId,
    customerId: event.customerId,
    amount: event.payload.amount,
    carId: event.payload.carId,
    expiresAt: event.payload.expiresAt ? new Date(event.payload.expiresAt) : null,
  });
  await appendToOutbox(tx, createEvent("PaymentRegistered", event, { paymentId: payment.id, amount: payment.amount }));
}

/**
 * Compensation for a cancelled reservation: PAID -> REFUNDED, REQUESTED -> CANCELLED,
 * and a CANCELLED tombstone when the payment does not exist yet, so a registration
 * arriving later (out of order) cannot resurrect it. Emits PaymentCancelled for rental.
 * Nothing happens for a payment already REFUNDED or CANCELLED.
 */
async function onReservationCancelled(event: DomainEvent<"ReservationCancelled">, tx: Tx): Promise<void> {
  // Twice at most: when the tombstone conflicts with a payment a concurrent registration
  // committed after the update's snapshot, the second update (a new snapshot) sees it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const payment = await compensatePayment(tx, event.reservationId)
      ?? await insertCancelledPayment(tx, { reservationId: event.reservationId, customerId: event.customerId, amount: event.payload.amount, carId: event.payload.carId });
    if (payment) {
      await appendToOutbox(tx, createEvent("PaymentCancelled", event, { paymentId: payment.id, outcome: payment.outcome, carId: payment.carId }));
      return;
    }
  }
}

/** Events the payment subgraph consumes. */
export const paymentEventHandlers: EventHandlers<Tx> = {
  PaymentRegistrationRequested: onPaymentRegistrationRequested,
  ReservationCancelled: onReservationCancelled,
};
