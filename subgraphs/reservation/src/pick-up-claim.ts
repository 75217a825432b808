import { conflict, forbidden, ISSUER, type RequestContext } from "@rentcar/platform";
import type { PrismaClient, Reservation } from "./generated/prisma/client.ts";
import { ACTIVE_STATUSES, findOwnReservation } from "./reservations.ts";

/** The only service allowed to claim a pick-up (checked on the internal token's issuer). */
export const PICK_UP_CLAIMANT = ISSUER.rental;

/**
 * Claims a reservation for pick-up: the single decision point between "picked up" and
 * "cancelled". One conditional UPDATE sets `pickedUpAt` only while the reservation is
 * active (RESERVED or PAYMENT_DELAYED: not cancelled, expired nor completed) and not
 * yet claimed; cancelReservation's conditional UPDATE requires `pickedUpAt IS NULL`, so
 * of two concurrent calls exactly one wins. Rental calls this synchronously before it
 * hands the car over, and only for a READY rental (which exists only once the payment is
 * PAID), so a claimed reservation is paid. Claiming again returns the reservation unchanged.
 * @throws FORBIDDEN unless called by rental; NOT_FOUND (not the customer's);
 *   CONFLICT (cancelled or otherwise no longer active).
 */
export async function claimPickUp(db: PrismaClient, ctx: RequestContext, customerId: string, id: string): Promise<Reservation> {
  if (ctx.caller.issuer !== PICK_UP_CLAIMANT) throw forbidden(`only the ${PICK_UP_CLAIMANT} service claims pick-ups`);
  const reservation = await findOwnReservation(db, customerId, id);
  const { count } = await db.reservation.updateMany({
    where: { id: reservation.id, status: { in: [...ACTIVE_STATUSES] }, pickedUpAt: null },
    data: { pickedUpAt: new Date() },
  });
  const current = await db.reservation.findUniqueOrThrow({ where: { id: reservation.id } });
  if (current.pickedUpAt) {
    if (count === 1) ctx.log.info({ reservationId: id }, "reservation claimed for pick-up: it can no longer be cancelled");
    return current;
  }
  throw conflict(`reservation ${id} is ${current.status} and can no longer be picked up`, { reservationId: id, status: current.status });
}
