import { randomUUID } from "node:crypto";
import { appendToOutbox, createEvent, type DomainEvent, type EventHandlers } from "@rentcar/events";
import type { Logger } from "@rentcar/platform";
import type { Prisma } from "./generated/prisma/client.ts";

type Tx = Prisma.TransactionClient;

/**
 * The reservation is paid: prepare the car (Rental READY) and emit RentalReady. A rental
 * that already exists (also a CANCELLED tombstone left by an earlier cancellation) is kept.
 */
async function onPaymentCompleted(event: DomainEvent<"PaymentCompleted">, tx: Tx): Promise<void> {
  // One statement instead of a read then a create: a rental that exists (or a tombstone) wins the conflict.
  const [rental] = await tx.$queryRawUnsafe<{ id: string; car_id: string }[]>(
    `INSERT INTO rental (id, reservation_id, customer_id, car_id, status, updated_at)
     VALUES ($1::uuid, $2::uuid, $3, $4, 'READY', now())
     ON CONFLICT (reservation_id) DO NOTHING
     RETURNING id, car_id`,
    randomUUID(), event.reservationId, event.customerId, event.payload.carId,
  );
  if (!rental) return;
  await appendToOutbox(tx, createEvent("RentalReady", event, { rentalId: rental.id, carId: rental.car_id }));
}

/**
 * Last step of the cancellation saga: READY -> CANCELLED. When the payment event arrives
 * before the rental exists, a CANCELLED tombstone is written so that a late
 * PaymentCompleted cannot create an active rental. A picked-up car cannot be affected:
 * the reservation refuses cancellation once rental claimed the pick-up.
 */
async function onPaymentCancelled(event: DomainEvent<"PaymentCancelled">, tx: Tx, log: Logger): Promise<void> {
  const existing = await tx.rental.findUnique({ where: { reservationId: event.reservationId } });
  if (existing?.status === "CANCELLED") return;
  if (existing && existing.status !== "READY") {
    // Cannot happen since pick-up claims the reservation first (a claimed one refuses cancellation); kept as a guard.
    log.error({ reservationId: event.reservationId, status: existing.status }, "cancellation arrived after pick-up; rental kept");
    return;
  }
  const carId = existing?.carId ?? event.payload.carId;
  if (!carId) return; // no car was ever attached, so no rental can be created for it either
  const rental = existing
    ? await tx.rental.update({ where: { id: existing.id }, data: { status: "CANCELLED" } })
    : await tx.rental.create({ data: { reservationId: event.reservationId, customerId: event.customerId, carId, status: "CANCELLED" } });
  await appendToOutbox(tx, createEvent("RentalCancelled", event, { rentalId: rental.id, paymentOutcome: event.payload.outcome }));
}

/** Events the rental subgraph consumes. */
export const rentalEventHandlers = (log: Logger): EventHandlers<Tx> => ({
  PaymentCompleted: onPaymentCompleted,
  PaymentCancelled: (event, tx) => onPaymentCancelled(event, tx, log),
});
