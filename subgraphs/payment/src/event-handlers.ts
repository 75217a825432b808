import { appendToOutbox, createEvent, type DomainEvent, type EventHandlers } from "@rentcar/events";
import type { Prisma } from "./generated/prisma/client.ts";
import { upsertRequestedPayment } from "./payments.ts";

type Tx = Prisma.TransactionClient;

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
 */
async function onReservationCancelled(event: DomainEvent<"ReservationCancelled">, tx: Tx): Promise<void> {
  const existing = await tx.payment.findUnique({ where: { reservationId: event.reservationId } });
  if (existing && (existing.status === "REFUNDED" || existing.status === "CANCELLED")) return;
  const outcome = existing?.status === "PAID" ? "REFUNDED" : "CANCELLED";
  const payment = existing
    ? await tx.payment.update({ where: { id: existing.id }, data: { status: outcome } })
    : await tx.payment.create({
      data: {
        reservationId: event.reservationId,
        customerId: event.customerId,
        amount: event.payload.amount,
        carId: event.payload.carId,
        status: "CANCELLED",
      },
    });
  await appendToOutbox(tx, createEvent("PaymentCancelled", event, { paymentId: payment.id, outcome, carId: payment.carId }));
}

/** Events the payment subgraph consumes. */
export const paymentEventHandlers: EventHandlers<Tx> = {
  PaymentRegistrationRequested: onPaymentRegistrationRequested,
  ReservationCancelled: onReservationCancelled,
};
