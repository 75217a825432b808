import { conflict, isUuid, notFound, serviceUnavailable, type RequestContext } from "@rentcar/platform";
import type { PrismaClient, Reservation } from "./generated/prisma/client.ts";
import type { PaymentClient } from "./payment-client.ts";
import { EXCLUSION_VIOLATION, hasSqlState } from "./postgres-errors.ts";
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
}

/**
 * Reserves a car for the caller: validates the period, prices it from the rate card,
 * inserts the reservation (the exclusion constraint rejects overlaps atomically, also
 * under concurrent calls), then registers its payment synchronously. If the payment
 * cannot be registered, the reservation is deleted again (compensation) so nothing is
 * left behind.
 * @throws BAD_USER_INPUT, NOT_FOUND (unknown car), CONFLICT (overlap), SERVICE_UNAVAILABLE (payment).
 */
export async function reserveCar(deps: ReservationDeps, ctx: RequestContext, customerId: string, input: ReserveCarInput): Promise<Reservation> {
  const period = validatePeriod(input.pickupAt, input.returnAt, deps.limits);
  const rate = await deps.db.carRate.findUnique({ where: { carId: input.carId } });
  if (!rate?.active) throw notFound(`car ${input.carId} does not exist`, { carId: input.carId });
  const reservation = await insertReservation(deps.db, {
    customerId,
    carId: input.carId,
    pickupAt: period.pickupAt,
    returnAt: period.returnAt,
    amount: priceOf(rate.dailyRate, period),
    status: "RESERVED",
  });
  const log = ctx.log.child({ reservationId: reservation.id });
  log.info({ carId: reservation.carId, amount: reservation.amount, days: period.days }, "reservation created");
  try {
    const paymentId = await deps.payments.register(
      { reservationId: reservation.id, customerId, amount: reservation.amount },
      ctx.requestId,
    );
    log.info({ paymentId }, "payment registered");
    return reservation;
  } catch (error) {
    await deps.db.reservation.delete({ where: { id: reservation.id } });
    log.warn({ err: (error as Error).message }, "payment registration failed; reservation withdrawn");
    throw serviceUnavailable("payment registration failed, so nothing was reserved; please try again shortly", {
      reason: (error as Error).message,
    });
  }
}

type NewReservation = Pick<Reservation, "customerId" | "carId" | "pickupAt" | "returnAt" | "amount" | "status">;

async function insertReservation(db: PrismaClient, data: NewReservation): Promise<Reservation> {
  try {
    return await db.reservation.create({ data });
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
