import { appendToOutbox, createEvent, type DomainEvent, type EventHandlers, type SelfRecordingHandler } from "@rentcar/events";
import type { Logger, SqlClient } from "@rentcar/platform";
import { cancelReadyRental, insertReadyRentalOnce, insertRental, rentalStatusOf } from "./rental-sql.ts";

/** Handlers run on plain SQL (the consumer's transaction, or a Prisma transaction in tests). */
type Tx = SqlClient;

/**
 * The reservation is paid: prepare the car (Rental READY) and emit RentalReady. A rental
 * that already exists (also a CANCELLED tombstone left by an earlier cancellation) is kept.
 * Applied by the consumer on its own as one autocommit statement (inbox row, rental, event:
 * one round trip instead of a five-statement transaction), or inside a caller's transaction.
 */
const onPaymentCompleted: SelfRecordingHandler<Tx, "PaymentCompleted"> = Object.assign(
  async (event: DomainEvent<"PaymentCompleted">, tx: Tx): Promise<void> => {
    const rental = await insertRental(tx, { reservationId: event.reservationId, customerId: event.customerId, carId: event.payload.carId, status: "READY" });
    if (!rental) return;
    await appendToOutbox(tx, createEvent("RentalReady", event, { rentalId: rental.id, carId: rental.carId }));
  },
  { applyAlone: (event: DomainEvent<"PaymentCompleted">, db: Tx) => insertReadyRentalOnce(db, event) },
);

/**
 * Last step of the cancellation saga: READY -> CANCELLED. When the payment event arrives
 * before the rental exists, a CANCELLED tombstone is written so that a late
 * PaymentCompleted cannot create an active rental. A picked-up car cannot be affected:
 * the reservation refuses cancellation once rental claimed the pick-up.
 */
async function onPaymentCancelled(event: DomainEvent<"PaymentCancelled">, tx: Tx, log: Logger): Promise<void> {
  // Twice at most: a tombstone that conflicts with a rental a concurrent PaymentCompleted
  // committed after the update's snapshot is retried once, and the update (a new snapshot) sees it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const cancelled = await cancelReadyRental(tx, event.reservationId);
    if (cancelled) return emitRentalCancelled(event, tx, cancelled.id);
    const status = await rentalStatusOf(tx, event.reservationId);
    if (status === "CANCELLED") return;
    if (status !== undefined && status !== "READY") {
      // Cannot happen since pick-up claims the reservation first (a claimed one refuses cancellation); kept as a guard.
      log.error({ reservationId: event.reservationId, status }, "cancellation arrived after pick-up; rental kept");
      return;
    }
    if (status === "READY") continue; // committed by a concurrent PaymentCompleted after the update's snapshot
    const carId = event.payload.carId;
    if (!carId) return; // no car was ever attached, so no rental can be created for it either
    const tombstone = await insertRental(tx, { reservationId: event.reservationId, customerId: event.customerId, carId, status: "CANCELLED" });
    if (tombstone) return emitRentalCancelled(event, tx, tombstone.id);
  }
  throw new Error(`rental of reservation ${event.reservationId} changed concurrently twice; the event is retried`);
}

const emitRentalCancelled = (event: DomainEvent<"PaymentCancelled">, tx: Tx, rentalId: string) =>
  appendToOutbox(tx, createEvent("RentalCancelled", event, { rentalId, paymentOutcome: event.payload.outcome }));

/** Events the rental subgraph consumes. */
export const rentalEventHandlers = (log: Logger): EventHandlers<Tx> => ({
  PaymentCompleted: onPaymentCompleted,
  PaymentCancelled: (event, tx) => onPaymentCancelled(event, tx, log),
});
