import type { DomainEvent, EventHandlers } from "@rentcar/events";
import type { Prisma } from "./generated/prisma/client.ts";
import { project } from "./my-reservations.ts";

type Tx = Prisma.TransactionClient;

/** The payment exists (registered in the background): PAYMENT_DELAYED -> RESERVED. */
async function onPaymentRegistered(event: DomainEvent<"PaymentRegistered">, tx: Tx): Promise<void> {
  const id = event.reservationId;
  await tx.reservation.updateMany({ where: { id, paymentId: null }, data: { paymentId: event.payload.paymentId } });
  await tx.reservation.updateMany({ where: { id, status: "PAYMENT_DELAYED" }, data: { status: "RESERVED" } });
  await project(tx, id, { paymentStatus: "REQUESTED" });
}

/** Rental handed the car over: from now on the reservation cannot be cancelled. */
async function onCarPickedUp(event: DomainEvent<"CarPickedUp">, tx: Tx): Promise<void> {
  await tx.reservation.updateMany({ where: { id: event.reservationId, pickedUpAt: null }, data: { pickedUpAt: new Date(event.occurredAt) } });
  await project(tx, event.reservationId, { rentalStatus: "PICKED_UP" });
}

/** The car is back: the reservation is COMPLETED (which also frees the rest of its period). */
async function onCarReturned(event: DomainEvent<"CarReturned">, tx: Tx): Promise<void> {
  await tx.reservation.updateMany({ where: { id: event.reservationId, pickedUpAt: null }, data: { pickedUpAt: new Date(event.occurredAt) } });
  await tx.reservation.updateMany({ where: { id: event.reservationId, status: "RESERVED" }, data: { status: "COMPLETED" } });
  await project(tx, event.reservationId, { rentalStatus: "RETURNED" });
}

/** Events the reservation subgraph consumes (the last four only feed the read model). */
export const reservationEventHandlers: EventHandlers<Tx> = {
  PaymentRegistered: onPaymentRegistered,
  CarPickedUp: onCarPickedUp,
  CarReturned: onCarReturned,
  PaymentCompleted: async (event, tx) => { await project(tx, event.reservationId, { paymentStatus: "PAID" }); },
  PaymentCancelled: async (event, tx) => { await project(tx, event.reservationId, { paymentStatus: event.payload.outcome }); },
  RentalReady: async (event, tx) => { await project(tx, event.reservationId, { rentalStatus: "READY" }); },
  RentalCancelled: async (event, tx) => { await project(tx, event.reservationId, { rentalStatus: "CANCELLED" }); },
};
