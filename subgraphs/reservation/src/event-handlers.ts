import type { DomainEvent, EventHandlers } from "@rentcar/events";
import type { Prisma } from "./generated/prisma/client.ts";

type Tx = Prisma.TransactionClient;

/** The payment exists (registered in the background): PAYMENT_DELAYED -> RESERVED. */
async function onPaymentRegistered(event: DomainEvent<"PaymentRegistered">, tx: Tx): Promise<void> {
  const id = event.reservationId;
  await tx.reservation.updateMany({ where: { id, paymentId: null }, data: { paymentId: event.payload.paymentId } });
  await tx.reservation.updateMany({ where: { id, status: "PAYMENT_DELAYED" }, data: { status: "RESERVED" } });
}

/** Rental handed the car over: from now on the reservation cannot be cancelled. */
async function onCarPickedUp(event: DomainEvent<"CarPickedUp">, tx: Tx): Promise<void> {
  await tx.reservation.updateMany({ where: { id: event.reservationId, pickedUpAt: null }, data: { pickedUpAt: new Date(event.occurredAt) } });
}

/** The car is back: the reservation is COMPLETED (which also frees the rest of its period). */
async function onCarReturned(event: DomainEvent<"CarReturned">, tx: Tx): Promise<void> {
  await tx.reservation.updateMany({ where: { id: event.reservationId, pickedUpAt: null }, data: { pickedUpAt: new Date(event.occurredAt) } });
  await tx.reservation.updateMany({ where: { id: event.reservationId, status: "RESERVED" }, data: { status: "COMPLETED" } });
}

/** Events the reservation subgraph consumes. */
export const reservationEventHandlers: EventHandlers<Tx> = {
  PaymentRegistered: onPaymentRegistered,
  CarPickedUp: onCarPickedUp,
  CarReturned: onCarReturned,
};
