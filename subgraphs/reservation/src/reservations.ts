import { appendToOutbox, createEvent } from "@rentcar/events";
import { conflict, isUuid, notFound, type RequestContext } from "@rentcar/platform";
import type { PrismaClient, Reservation } from "./generated/prisma/client.ts";
import type { PaymentClient } from "./payment-client.ts";
import { EXCLUSION_VIOLATION, hasSqlState } from "./postgres-errors.ts";
import { project } from "./my-reservations.ts";
import { priceOf, validatePeriod, type PeriodLimits } from "./rental-period.ts";

/** Statuses that hold the car for the period (must match the `reservation_no_overlap` constraint). */
export const ACTIVE_STATUSES = ["RESERVED", "PAYMENT_DELAYED"] as const;

export interface ReserveCarInput {
  carId: string;
  pickupAt: Date;
  returnAt: Date;
}

export interface ReservationDeps {
  db: PrismaClient;
  payments: PaymentClient;
  limits: PeriodLimits;
  /** Tells the outbox relay that events were committed (publish now rather than at the next poll). */
  published(): void;
}

/**
 * Reserves a car for the caller: validates the period, prices it from the rate card, and
 * inserts the reservation together with a PaymentRegistrationRequested outbox event in
 * one transaction (the exclusion constraint rejects overlaps atomically, also under
 * concurrent calls). It then registers the payment synchronously through the circuit
 * breaker and, on success, withdraws the still-unpublished event; when that fails (payment slow, down, or breaker open) the reservation is still
 * accepted as PAYMENT_DELAYED and the outbox event registers the payment in the
 * background, which turns it RESERVED. Nothing is lost if this process dies at any point.
 * @throws BAD_USER_INPUT, NOT_FOUND (unknown car), CONFLICT (overlap).
 */
export async function reserveCar(deps: ReservationDeps, ctx: RequestContext, customerId: string, input: ReserveCarInput): Promise<Reservation> {
  const period = validatePeriod(input.pickupAt, input.returnAt, deps.limits);
  const rate = await deps.db.carRate.findUnique({ where: { carId: input.carId } });
  if (!rate?.active) throw notFound(`car ${input.carId} does not exist`, { carId: input.carId });
  const { reservation, registrationEventId } = await insertReservation(deps.db, {
    customerId,
    carId: input.carId,
    pickupAt: period.pickupAt,
    returnAt: period.returnAt,
    amount: priceOf(rate.dailyRate, period),
  });
  const log = ctx.log.child({ reservationId: reservation.id });
  log.info({ carId: reservation.carId, amount: reservation.amount, days: period.days }, "reservation created");
  try {
    const paymentId = await deps.payments.register(
      { reservationId: reservation.id, customerId, amount: reservation.amount, carId: reservation.carId },
      ctx.requestId,
    );
    await deps.db.$transaction(async (tx) => {
      await tx.reservation.updateMany({ where: { id: reservation.id, paymentId: null }, data: { paymentId } });
      // The background registration is no longer needed; if the relay already took it, it is a no-op downstream.
      await tx.outboxEvent.deleteMany({ where: { id: registrationEventId, publishedAt: null } });
      await project(tx, reservation.id, { paymentStatus: "REQUESTED" });
    });
    deps.published();
    log.info({ paymentId }, "payment registered");
    return { ...reservation, paymentId };
  } catch (error) {
    // Only a reservation whose payment nobody has registered yet is marked delayed.
    await deps.db.$transaction(async (tx) => {
      await tx.reservation.updateMany({
        where: { id: reservation.id, status: "RESERVED", paymentId: null },
        data: { status: "PAYMENT_DELAYED" },
      });
      await project(tx, reservation.id);
    });
    deps.published();
    log.warn({ reason: (error as Error).message }, "payment registration delayed; it will be retried in the background");
    return deps.db.reservation.findUniqueOrThrow({ where: { id: reservation.id } });
  }
}

type NewReservation = Pick<Reservation, "customerId" | "carId" | "pickupAt" | "returnAt" | "amount">;

/** Inserts the reservation and its PaymentRegistrationRequested outbox event atomically. */
async function insertReservation(db: PrismaClient, data: NewReservation): Promise<{ reservation: Reservation; registrationEventId: string }> {
  try {
    return await db.$transaction(async (tx) => {
      const reservation = await tx.reservation.create({ data: { ...data, status: "RESERVED" } });
      const event = createEvent("PaymentRegistrationRequested",
        { reservationId: reservation.id, customerId: reservation.customerId },
        { amount: reservation.amount, carId: reservation.carId });
      await appendToOutbox(tx, event);
      await project(tx, reservation.id);
      return { reservation, registrationEventId: event.eventId };
    });
  } catch (error) {
    if (!hasSqlState(error, EXCLUSION_VIOLATION)) throw error;
    throw conflict(`car ${data.carId} is already reserved for an overlapping period`, {
      carId: data.carId,
      pickupAt: data.pickupAt.toISOString(),
      returnAt: data.returnAt.toISOString(),
    });
  }
}

/**
 * Cancels the caller's reservation: RESERVED or PAYMENT_DELAYED -> CANCELLED (the car's
 * period is free again at once) and ReservationCancelled is emitted in the same
 * transaction; payment then refunds or cancels, and rental cancels. Cancelling an
 * already cancelled reservation returns it unchanged.
 * @throws NOT_FOUND (not the caller's), CONFLICT (car already picked up, or COMPLETED).
 */
export async function cancelReservation(deps: ReservationDeps, ctx: RequestContext, customerId: string, id: string): Promise<Reservation> {
  const reservation = await findOwnReservation(deps.db, customerId, id);
  if (reservation.status === "CANCELLED") return reservation;
  const cancelled = await deps.db.$transaction(async (tx) => {
    const { count } = await tx.reservation.updateMany({
      where: { id: reservation.id, status: { in: [...ACTIVE_STATUSES] }, pickedUpAt: null },
      data: { status: "CANCELLED" },
    });
    if (count === 1) {
      await appendToOutbox(tx, createEvent("ReservationCancelled",
        { reservationId: reservation.id, customerId },
        { carId: reservation.carId, amount: reservation.amount }));
      await project(tx, reservation.id);
    }
    return count === 1;
  });
  const current = await deps.db.reservation.findUniqueOrThrow({ where: { id: reservation.id } });
  if (cancelled) {
    deps.published();
    ctx.log.info({ reservationId: reservation.id }, "reservation cancelled");
  }
  if (current.status === "CANCELLED") return current;
  throw conflict(current.pickedUpAt
    ? `reservation ${id} can no longer be cancelled: the car was picked up`
    : `reservation ${id} is ${current.status} and can no longer be cancelled`, { reservationId: id, status: current.status });
}

/**
 * The caller's reservation.
 * @throws NOT_FOUND when it does not exist or belongs to someone else (no existence leak).
 */
export async function findOwnReservation(db: PrismaClient, customerId: string, id: string): Promise<Reservation> {
  const reservation = isUuid(id) ? await db.reservation.findUnique({ where: { id } }) : null;
  if (!reservation || reservation.customerId !== customerId) throw notFound(`reservation ${id} not found`, { reservationId: id });
  return reservation;
}

/**
 * Ids of active cars with no active reservation overlapping [pickupAt, returnAt).
 * @throws BAD_USER_INPUT for an invalid period (same rules as reserveCar).
 */
export async function availableCarIds(deps: Pick<ReservationDeps, "db" | "limits">, pickupAt: Date, returnAt: Date): Promise<string[]> {
  const period = validatePeriod(pickupAt, returnAt, deps.limits);
  const [rates, busy] = await Promise.all([
    deps.db.carRate.findMany({ where: { active: true }, select: { carId: true }, orderBy: { carId: "asc" } }),
    deps.db.reservation.findMany({
      where: { status: { in: [...ACTIVE_STATUSES] }, pickupAt: { lt: period.returnAt }, returnAt: { gt: period.pickupAt } },
      select: { carId: true },
      distinct: ["carId"],
    }),
  ]);
  const busyIds = new Set(busy.map((r) => r.carId));
  return rates.map((r) => r.carId).filter((id) => !busyIds.has(id));
}
