import { appendToOutbox, createEvent } from "@rentcar/events";
import { conflict, notFound, parseUuid, type RequestContext } from "@rentcar/platform";
import type { PrismaClient, Rental, RentalStatus } from "./generated/prisma/client.ts";
import type { PickUpClaims } from "./reservation-client.ts";

type Transition = { from: RentalStatus; to: RentalStatus; event: "CarPickedUp" | "CarReturned"; at: "pickedUpAt" | "returnedAt" };

const PICK_UP: Transition = { from: "READY", to: "PICKED_UP", event: "CarPickedUp", at: "pickedUpAt" };
const RETURN: Transition = { from: "PICKED_UP", to: "RETURNED", event: "CarReturned", at: "returnedAt" };

/** What the rental commands need. */
export interface RentalDeps {
  db: PrismaClient;
  /** The reservation subgraph's pick-up claim (the one owner of "picked up" vs "cancelled"). */
  claims: PickUpClaims;
}

/**
 * Moves the caller's rental along one step (conditional update, so concurrent calls
 * apply it once) and emits the matching event through the outbox in the same
 * transaction. `guard` runs first when the rental is in the step's start state and may
 * refuse by throwing. Repeating a step that already happened returns the rental unchanged.
 * @throws BAD_USER_INPUT (id), NOT_FOUND (no rental of the caller for this reservation:
 *   not paid yet, or another customer's), CONFLICT (the rental is in another state).
 */
async function transition(db: PrismaClient, ctx: RequestContext, customerId: string, reservationIdArg: string, step: Transition,
  guard?: (rental: Rental) => Promise<void>): Promise<Rental> {
  const reservationId = parseUuid(reservationIdArg, "reservationId");
  const rental = await db.rental.findUnique({ where: { reservationId } });
  if (!rental || rental.customerId !== customerId) {
    throw notFound(`no rental for reservation ${reservationId} (it exists once the reservation is paid)`, { reservationId });
  }
  if (rental.status === step.from) await guard?.(rental);
  const changed = await db.$transaction(async (tx) => {
    const { count } = await tx.rental.updateMany({
      where: { id: rental.id, status: step.from },
      data: { status: step.to, [step.at]: new Date() },
    });
    if (count === 1) {
      await appendToOutbox(tx, createEvent(step.event, rental, { rentalId: rental.id, carId: rental.carId }));
    }
    return count === 1;
  });
  const current = await db.rental.findUniqueOrThrow({ where: { id: rental.id } });
  if (changed) ctx.log.info({ reservationId, rentalId: rental.id, status: current.status }, `rental ${current.status}`);
  if (current.status === step.to) return current;
  throw conflict(`rental of reservation ${reservationId} is ${current.status}; it must be ${step.from}`, {
    reservationId,
    status: current.status,
  });
}

/**
 * READY -> PICKED_UP for the caller's reservation; emits CarPickedUp. The reservation
 * subgraph first claims the reservation for pick-up (synchronously): a reservation
 * cancelled before refuses it (CONFLICT), and once claimed it can no longer be cancelled,
 * so a car is never handed over for a refunded reservation.
 * @throws as transition; CONFLICT when the reservation was cancelled; SERVICE_UNAVAILABLE
 *   when the reservation subgraph cannot be asked (nothing is handed over then).
 */
export const pickUpCar = (deps: RentalDeps, ctx: RequestContext, customerId: string, reservationId: string) =>
  transition(deps.db, ctx, customerId, reservationId, PICK_UP,
    (rental) => deps.claims.claim(rental.reservationId, customerId, ctx.requestId));

/** PICKED_UP -> RETURNED for the caller's reservation; emits CarReturned. */
export const returnCar = (deps: RentalDeps, ctx: RequestContext, customerId: string, reservationId: string) =>
  transition(deps.db, ctx, customerId, reservationId, RETURN);
