import { appendToOutbox, createEvent } from "@rentcar/events";
import { conflict, isUuid, limitExceeded, notFound, type Idempotency, type IdempotentOutcome, type IdempotentRequest, type RequestContext } from "@rentcar/platform";
import type { CancellationReason, Prisma, PrismaClient, Reservation } from "./generated/prisma/client.ts";
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

/** Unpaid-hold rules (UNPAID_HOLD_SECONDS, MAX_UNPAID_HOLDS from the platform config). */
export interface HoldLimits {
  /** How long an unpaid reservation holds its car, in seconds. */
  unpaidHoldSeconds: number;
  /** Unpaid reservations one customer may hold at once. */
  maxUnpaidHolds: number;
}

export interface ReservationDeps {
  db: PrismaClient;
  payments: PaymentClient;
  limits: PeriodLimits;
  /** Claims `Idempotency-Key`s in the same transaction as the mutation's write. */
  idempotency: Idempotency;
  holds: HoldLimits;
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
 * With an `Idempotency-Key` (`ctx.idempotencyKey`) the key is claimed in the insert's
 * transaction: a retry returns the same reservation (current state), even after a crash.
 * A customer holds at most MAX_UNPAID_HOLDS unpaid reservations; each is held UNPAID_HOLD_SECONDS
 * (`holdExpiresAt`, handed to payment, which expires it: see payment's hold-expiry.ts).
 * @throws BAD_USER_INPUT (period rules, reused key), NOT_FOUND (unknown car), CONFLICT (overlap),
 *   LIMIT_EXCEEDED (too many unpaid holds).
 */
export async function reserveCar(deps: ReservationDeps, ctx: RequestContext, customerId: string, input: ReserveCarInput): Promise<Reservation> {
  const outcome = await insertReservation(deps, {
    customerId,
    key: ctx.idempotencyKey,
    operation: "reserveCar",
    input: { carId: input.carId, pickupAt: input.pickupAt, returnAt: input.returnAt },
  }, input);
  if (outcome.replayed) {
    ctx.log.info({ reservationId: outcome.resultId }, "reserveCar replayed for its idempotency key");
    return findOwnReservation(deps.db, customerId, outcome.resultId);
  }
  const { reservation, registrationEventId, days } = outcome.result;
  const log = ctx.log.child({ reservationId: reservation.id });
  log.info({ carId: reservation.carId, amount: reservation.amount, days }, "reservation created");
  let paymentId: string;
  try {
    paymentId = await deps.payments.register(
      { reservationId: reservation.id, customerId, amount: reservation.amount, carId: reservation.carId, expiresAt: reservation.holdExpiresAt! },
      ctx.requestId,
    );
  } catch (error) {
    return markPaymentDelayed(deps, reservation, log, (error as Error).message);
  }
  // From here on the reservation is committed: a failure must not turn into an error
  // answer for a reservation that exists. The PaymentRegistrationRequested event still in
  // the outbox records the payment in the background (registration is idempotent).
  try {
    await deps.db.$transaction(async (tx) => {
      await tx.reservation.updateMany({ where: { id: reservation.id, paymentId: null }, data: { paymentId } });
      // The background registration is no longer needed; if the relay already took it, it is a no-op downstream.
      await tx.outboxEvent.deleteMany({ where: { id: registrationEventId, publishedAt: null } });
      await project(tx, reservation.id, { paymentStatus: "REQUESTED" });
    });
  } catch (error) {
    log.warn({ paymentId, reason: (error as Error).message }, "payment registered but not recorded yet; the outbox event records it in the background");
    return reservation;
  }
  deps.published();
  log.info({ paymentId }, "payment registered");
  return { ...reservation, paymentId };
}

/**
 * Marks a reservation whose payment nobody has registered yet PAYMENT_DELAYED; the outbox
 * event registers the payment in the background. If even that cannot be written (e.g. the
 * database is saturated), the committed reservation is returned as it is (RESERVED) and
 * the same outbox event completes the registration later: never an error for a reservation that exists.
 */
async function markPaymentDelayed(deps: ReservationDeps, reservation: Reservation, log: RequestContext["log"], reason: string): Promise<Reservation> {
  try {
    await deps.db.$transaction(async (tx) => {
      await tx.reservation.updateMany({
        where: { id: reservation.id, status: "RESERVED", paymentId: null },
        data: { status: "PAYMENT_DELAYED" },
      });
      await project(tx, reservation.id);
    });
    deps.published();
    log.warn({ reason }, "payment registration delayed; it will be retried in the background");
    return await deps.db.reservation.findUniqueOrThrow({ where: { id: reservation.id } });
  } catch (error) {
    log.warn({ reason, markFailed: (error as Error).message }, "payment registration delayed and not yet marked; the outbox event registers it in the background");
    return reservation;
  }
}

interface InsertedReservation {
  reservation: Reservation;
  registrationEventId: string;
  days: number;
}

/**
 * Validates, prices and inserts the reservation with its PaymentRegistrationRequested outbox
 * event in one transaction, which also claims the idempotency key (a replay skips all of it).
 */
async function insertReservation(deps: ReservationDeps, request: IdempotentRequest, input: ReserveCarInput): Promise<IdempotentOutcome<InsertedReservation>> {
  try {
    return await deps.idempotency.run(deps.db, request, async (tx) => {
      const period = validatePeriod(input.pickupAt, input.returnAt, deps.limits);
      const rate = await tx.carRate.findUnique({ where: { carId: input.carId } });
      if (!rate?.active) throw notFound(`car ${input.carId} does not exist`, { carId: input.carId });
      await assertUnpaidHoldAvailable(tx, request.customerId, deps.holds.maxUnpaidHolds);
      const reservation = await tx.reservation.create({
        data: {
          customerId: request.customerId,
          carId: input.carId,
          pickupAt: period.pickupAt,
          returnAt: period.returnAt,
          amount: priceOf(rate.dailyRate, period),
          status: "RESERVED",
          holdExpiresAt: new Date(Date.now() + deps.holds.unpaidHoldSeconds * 1000),
        },
      });
      const event = createEvent("PaymentRegistrationRequested",
        { reservationId: reservation.id, customerId: reservation.customerId },
        { amount: reservation.amount, carId: reservation.carId, expiresAt: reservation.holdExpiresAt!.toISOString() });
      await appendToOutbox(tx, event);
      await project(tx, reservation.id);
      return { reservation, registrationEventId: event.eventId, days: period.days };
    }, ({ reservation }) => reservation.id);
  } catch (error) {
    if (!hasSqlState(error, EXCLUSION_VIOLATION)) throw error;
    throw conflict(`car ${input.carId} is already reserved for an overlapping period`, {
      carId: input.carId,
      pickupAt: input.pickupAt.toISOString(),
      returnAt: input.returnAt.toISOString(),
    });
  }
}

/**
 * Refuses a new hold when the customer already holds `max` unpaid reservations (active, not
 * paid, not picked up). A transaction-scoped advisory lock per customer serialises this
 * check-then-insert, so concurrent reserveCar calls of one customer cannot all pass it.
 * @throws LIMIT_EXCEEDED (MAX_UNPAID_HOLDS).
 */
async function assertUnpaidHoldAvailable(tx: Prisma.TransactionClient, customerId: string, max: number): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended('unpaid-holds:' || $1, 0))`, customerId);
  const held = await tx.reservation.count({
    where: { customerId, status: { in: [...ACTIVE_STATUSES] }, paidAt: null, pickedUpAt: null },
  });
  if (held >= max) {
    throw limitExceeded(`you already hold ${held} unpaid reservations (at most ${max}); pay or cancel one first`, { limit: max, field: "MAX_UNPAID_HOLDS" });
  }
}

/**
 * The cancellation saga's first step, shared by the customer's cancelReservation and the
 * expiry of an unpaid hold (PaymentExpired): an active reservation not picked up (and, for
 * EXPIRED, not paid) becomes CANCELLED with its reason, and ReservationCancelled is emitted in
 * the same transaction (payment refunds or cancels, rental cancels).
 * @returns false when the reservation was no longer cancellable (nothing written).
 */
export async function cancelActive(tx: Prisma.TransactionClient, reservation: Reservation, reason: CancellationReason): Promise<boolean> {
  const { count } = await tx.reservation.updateMany({
    where: { id: reservation.id, status: { in: [...ACTIVE_STATUSES] }, pickedUpAt: null, ...(reason === "EXPIRED" ? { paidAt: null } : {}) },
    data: { status: "CANCELLED", cancellationReason: reason },
  });
  if (count === 1) {
    await appendToOutbox(tx, createEvent("ReservationCancelled",
      { reservationId: reservation.id, customerId: reservation.customerId },
      { carId: reservation.carId, amount: reservation.amount }));
    await project(tx, reservation.id);
  }
  return count === 1;
}

/**
 * Cancels the caller's reservation: RESERVED or PAYMENT_DELAYED -> CANCELLED (the car's
 * period is free again at once) and ReservationCancelled is emitted in the same
 * transaction; payment then refunds or cancels, and rental cancels. Cancelling an
 * already cancelled reservation returns it unchanged. An `Idempotency-Key` is claimed in
 * the same transaction (a retry returns the same reservation).
 * @throws NOT_FOUND (not the caller's), CONFLICT (car already picked up, or COMPLETED), BAD_USER_INPUT (reused key).
 */
export async function cancelReservation(deps: ReservationDeps, ctx: RequestContext, customerId: string, id: string): Promise<Reservation> {
  const request = { customerId, key: ctx.idempotencyKey, operation: "cancelReservation", input: { reservationId: id } };
  const outcome = await deps.idempotency.run(deps.db, request, async (tx) => {
    const reservation = await findOwnReservation(tx, customerId, id);
    if (reservation.status === "CANCELLED") return { current: reservation, cancelled: false };
    const cancelled = await cancelActive(tx, reservation, "CUSTOMER");
    const current = await tx.reservation.findUniqueOrThrow({ where: { id: reservation.id } });
    if (current.status !== "CANCELLED") {
      throw conflict(current.pickedUpAt
        ? `reservation ${id} can no longer be cancelled: the car was picked up`
        : `reservation ${id} is ${current.status} and can no longer be cancelled`, { reservationId: id, status: current.status });
    }
    return { current, cancelled };
  }, ({ current }) => current.id);
  if (outcome.replayed) return findOwnReservation(deps.db, customerId, outcome.resultId);
  if (outcome.result.cancelled) {
    deps.published();
    ctx.log.info({ reservationId: id }, "reservation cancelled");
  }
  return outcome.result.current;
}

/**
 * The caller's reservation.
 * @throws NOT_FOUND when it does not exist or belongs to someone else (no existence leak).
 */
export async function findOwnReservation(db: Prisma.TransactionClient, customerId: string, id: string): Promise<Reservation> {
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
