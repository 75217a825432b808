import { appendToOutbox, createEvent } from "@rentcar/events";
import type { MyReservation, Prisma, Reservation } from "./generated/prisma/client.ts";

type Tx = Prisma.TransactionClient;

// Statuses only move forward, so an older event can never overwrite a newer state.
const PAYMENT_RANK: Record<string, number> = { REQUESTED: 1, PAID: 2, REFUNDED: 3, CANCELLED: 3 };
const RENTAL_RANK: Record<string, number> = { READY: 1, PICKED_UP: 2, RETURNED: 3, CANCELLED: 3 };

function advance(current: string | null, next: string | undefined, rank: Record<string, number>): string | null {
  if (!next) return current;
  if (!current) return next;
  return (rank[next] ?? 0) > (rank[current] ?? 0) ? next : current;
}

/**
 * Completes what a later stage implies, whatever order the events arrived in: a
 * COMPLETED reservation had its car RETURNED, and a rental that is READY, PICKED_UP or
 * RETURNED exists only because the payment is PAID. So a row never shows a stage
 * without its predecessors (e.g. READY with payment REQUESTED).
 */
export function impliedStatuses(reservationStatus: Reservation["status"], payment: string | null, rental: string | null) {
  const rentalStatus = reservationStatus === "COMPLETED" ? advance(rental, "RETURNED", RENTAL_RANK) : rental;
  const paid = rentalStatus === "READY" || rentalStatus === "PICKED_UP" || rentalStatus === "RETURNED";
  return { paymentStatus: paid ? advance(payment, "PAID", PAYMENT_RANK) : payment, rentalStatus };
}

/**
 * The customer-facing stage of a reservation, from its own status and the payment and
 * rental statuses it has heard of: CANCELLED > RETURNED > PICKED_UP > READY > PAID >
 * PAYMENT_DELAYED > RESERVED.
 */
export function overallStatus(reservationStatus: Reservation["status"], payment: string | null, rental: string | null): string {
  if (reservationStatus === "CANCELLED" || rental === "CANCELLED") return "CANCELLED";
  if (reservationStatus === "COMPLETED" || rental === "RETURNED") return "RETURNED";
  if (rental === "PICKED_UP") return "PICKED_UP";
  if (rental === "READY") return "READY";
  if (payment === "PAID") return "PAID";
  if (reservationStatus === "PAYMENT_DELAYED") return "PAYMENT_DELAYED";
  return "RESERVED";
}

/** What a write or an event tells the projection about one reservation. */
export interface ProjectionChange {
  paymentStatus?: string;
  rentalStatus?: string;
}

/**
 * Applies a change to the "my reservations" row inside the caller's transaction: the row
 * is locked, statuses only advance, and only a real change bumps `version` and emits
 * MyReservationChanged (through the outbox, so it is broadcast after commit). Applying
 * the same change twice has one effect.
 * @returns the new row, or null when nothing changed (or the reservation is unknown).
 */
export async function project(tx: Tx, reservationId: string, change: ProjectionChange = {}): Promise<MyReservation | null> {
  const reservation = await tx.reservation.findUnique({ where: { id: reservationId } });
  if (!reservation) return null;
  const [row] = await tx.$queryRawUnsafe<{ payment_status: string | null; rental_status: string | null; status: string; cancellation_reason: string | null; version: number }[]>(
    `SELECT status, payment_status, rental_status, cancellation_reason, version FROM my_reservation WHERE reservation_id = $1::uuid FOR UPDATE`,
    reservationId,
  );
  const { paymentStatus, rentalStatus } = impliedStatuses(reservation.status,
    advance(row?.payment_status ?? null, change.paymentStatus, PAYMENT_RANK),
    advance(row?.rental_status ?? null, change.rentalStatus, RENTAL_RANK));
  const status = overallStatus(reservation.status, paymentStatus, rentalStatus);
  const cancellationReason = status === "CANCELLED" ? (reservation.cancellationReason ?? null) : null;
  if (row && row.status === status && row.payment_status === paymentStatus && row.rental_status === rentalStatus
    && row.cancellation_reason === cancellationReason) return null;
  const fields = { status, paymentStatus, rentalStatus, cancellationReason, version: (row?.version ?? 0) + 1, updatedAt: new Date() };
  const updated = await tx.myReservation.upsert({
    where: { reservationId },
    create: { reservationId, customerId: reservation.customerId, carId: reservation.carId, createdAt: reservation.createdAt, ...fields },
    update: fields,
  });
  await appendToOutbox(tx, createEvent("MyReservationChanged", { reservationId, customerId: reservation.customerId }, {
    carId: updated.carId,
    status: updated.status,
    paymentStatus: updated.paymentStatus,
    rentalStatus: updated.rentalStatus,
    cancellationReason: updated.cancellationReason,
    version: updated.version,
    updatedAt: updated.updatedAt.toISOString(),
  }));
  return updated;
}
