import { appendToOutbox, createEvent } from "@rentcar/events";
import { conflict, notFound, parseUuid, type RequestContext } from "@rentcar/platform";
import type { PrismaClient, Rental, RentalStatus } from "./generated/prisma/client.ts";

type Transition = { from: RentalStatus; to: RentalStatus; event: "CarPickedUp" | "CarReturned"; at: "pickedUpAt" | "returnedAt" };

const PICK_UP: Transition = { from: "READY", to: "PICKED_UP", event: "CarPickedUp", at: "pickedUpAt" };
const RETURN: Transition = { from: "PICKED_UP", to: "RETURNED", event: "CarReturned", at: "returnedAt" };

/**
 * Moves the caller's rental along one step (conditional update, so concurrent calls
 * apply it once) and emits the matching event through the outbox in the same
 * transaction. Repeating a step that already happened returns the rental unchanged.
 * @throws BAD_USER_INPUT (id), NOT_FOUND (no rental of the caller for this reservation:
 *   not paid yet, or another customer's), CONFLICT (the rental is in another state).
 */
async function transition(db: PrismaClient, ctx: RequestContext, customerId: string, reservationIdArg: string, step: Transition): Promise<Rental> {
  const reservationId = parseUuid(reservationIdArg, "reservationId");
  const rental = await db.rental.findUnique({ where: { reservationId } });
  if (!rental || rental.customerId !== customerId) {
    throw notFound(`no rental for reservation ${reservationId} (it exists once the reservation is paid)`, { reservationId });
  }
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

/** READY -> PICKED_UP for the caller's reservation; emits CarPickedUp. */
export const pickUpCar = (db: PrismaClient, ctx: RequestContext, customerId: string, reservationId: string) =>
  transition(db, ctx, customerId, reservationId, PICK_UP);

/** PICKED_UP -> RETURNED for the caller's reservation; emits CarReturned. */
export const returnCar = (db: PrismaClient, ctx: RequestContext, customerId: string, reservationId: string) =>
  transition(db, ctx, customerId, reservationId, RETURN);
