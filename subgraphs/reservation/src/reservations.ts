import { randomUUID } from "node:crypto";
import { createEvent, outboxInsertSql, type OutboxLane } from "@rentcar/events";
import { conflict, isUuid, limitExceeded, notFound, type Idempotency, type IdempotentOutcome, type IdempotentRequest, type RequestContext } from "@rentcar/platform";
import type { SqlClientWithTransactions } from "@rentcar/db";
import type { SqlClient } from "@rentcar/events";
import type { CancellationReason, Prisma, PrismaClient, Reservation } from "./generated/prisma/client.ts";
import type { PaymentClient } from "./payment-client.ts";
import { EXCLUSION_VIOLATION, hasSqlState } from "./postgres-errors.ts";
import { project, writeFirstVersion } from "./my-reservations.ts";
import { priceOf, validatePeriod, type PeriodLimits } from "./rental-period.ts";
import { iso, RESERVATION_COLUMNS, Statement } from "./sql.ts";

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
  /** Reads and the rare writes (cancel, claim, replays). */
  db: PrismaClient;
  /**
   * The saga's hot path (reserveCar, event handlers): plain SQL on the same pool as `db`,
   * without Prisma's per-call work (docs/performance.md).
   */
  sql: SqlClientWithTransactions;
  payments: PaymentClient;
  limits: PeriodLimits;
  /** Claims `Idempotency-Key`s in the same transaction as the mutation's write. */
  idempotency: Idempotency;
  holds: HoldLimits;
  /**
   * Tells the outbox relay that events were committed (publish now rather than at the next
   * poll): in `lane` only (e.g. "changes" after writing only MyReservationChanged), or in every lane.
   */
  published(lane?: OutboxLane): void;
  /**
   * How long the background payment registration (the PaymentRegistrationRequested outbox event)
   * waits for the synchronous one, in ms (default 0). It is withdrawn when the synchronous call
   * succeeds and released at once when it fails, so this only matters after a crash in between
   * or when the success could not be recorded; without it the relay, kicked by other commits,
   * published nearly every registration a second time (measured: 385 of 404 sagas at c64).
   */
  registrationGraceMs?: number;
}

/**
 * Reserves a car for the caller: validates the period, prices it from the rate card, and
 * inserts the reservation together with a PaymentRegistrationRequested outbox event in
 * one transaction (the exclusion constraint rejects overlaps atomically, also under
 * concurrent calls). It then registers the payment synchronously through the circuit
 * breaker and, on success, records the payment id, withdraws the still-unpublished event and
 * writes the read model's first version (RESERVED, payment REQUESTED) in a second
 * transaction; when registration fails (payment slow, down, or breaker open) the reservation
 * is still accepted as PAYMENT_DELAYED and the outbox event registers the payment in the
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
    return markPaymentDelayed(deps, reservation, registrationEventId, log, (error as Error).message);
  }
  // From here on the reservation is committed: a failure must not turn into an error
  // answer for a reservation that exists. The PaymentRegistrationRequested event still in
  // the outbox records the payment in the background (registration is idempotent).
  let recorded: Reservation;
  try {
    // The view's first version: the payment is registered, so it already says REQUESTED. The
    // background registration is withdrawn; if the relay already took it, it is a no-op downstream.
    // Normally one autocommit statement; the general locking projection when anything else got there first.
    recorded = await writeFirstVersion(deps.sql, reservation, paymentId, registrationEventId)
      ?? await deps.sql.$transaction(async (tx) => (await project(tx, reservation.id, {
        viewExists: false,
        change: { paymentStatus: "REQUESTED" },
        patch: (r) => (r.paymentId ? null : { paymentId }),
        withdrawEventId: registrationEventId,
      }))?.reservation ?? { ...reservation, paymentId });
  } catch (error) {
    log.warn({ paymentId, reason: (error as Error).message }, "payment registered but not recorded yet; the outbox event records it in the background");
    return reservation;
  }
  deps.published("changes"); // only the view's MyReservationChanged was written (the withdraw deletes)
  log.info({ paymentId }, "payment registered");
  return recorded;
}

/**
 * Marks a reservation whose payment nobody has registered yet PAYMENT_DELAYED; the outbox
 * event registers the payment in the background. If even that cannot be written (e.g. the
 * database is saturated), the committed reservation is returned as it is (RESERVED) and
 * the same outbox event completes the registration later: never an error for a reservation that exists.
 */
async function markPaymentDelayed(deps: ReservationDeps, reservation: Reservation, registrationEventId: string, log: RequestContext["log"], reason: string): Promise<Reservation> {
  try {
    const projected = await deps.sql.$transaction((tx) => project(tx, reservation.id, {
      viewExists: false,
      releaseEventId: registrationEventId,
      patch: (r) => (r.status === "RESERVED" && !r.paymentId ? { status: "PAYMENT_DELAYED" } : null),
    }));
    deps.published();
    log.warn({ reason }, "payment registration delayed; it will be retried in the background");
    return projected?.reservation ?? reservation;
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
 * event, atomically, in two statements: the car's rate, then one statement that counts the
 * customer's unpaid holds under the customer's hold lock (`unpaid_holds_locked`, a migration:
 * it counts after the lock, in a fresh snapshot, so two concurrent calls of one customer cannot
 * both pass MAX_UNPAID_HOLDS), inserts the reservation if that allows it, and its event. Without
 * an Idempotency-Key no transaction is needed (the insert statement is the only write); with one,
 * both run in the key's transaction (a replay skips all of it). The read model's first version
 * is written once the payment is registered (reserveCar) or known to be delayed (markPaymentDelayed).
 */
async function insertReservation(deps: ReservationDeps, request: Omit<IdempotentRequest, "resultId">, input: ReserveCarInput): Promise<IdempotentOutcome<InsertedReservation>> {
  const id = randomUUID();
  try {
    return await deps.idempotency.run(deps.sql, { ...request, resultId: id }, async (tx) => {
      const period = validatePeriod(input.pickupAt, input.returnAt, deps.limits);
      const dailyRate = await rateOf(tx, input.carId);
      if (dailyRate === null) throw notFound(`car ${input.carId} does not exist`, { carId: input.carId });
      const createdAt = new Date();
      const holdExpiresAt = new Date(createdAt.getTime() + deps.holds.unpaidHoldSeconds * 1000);
      const amount = priceOf(dailyRate, period);
      const event = createEvent("PaymentRegistrationRequested", { reservationId: id, customerId: request.customerId },
        { amount, carId: input.carId, expiresAt: holdExpiresAt.toISOString() });
      const statement = new Statement();
      const { bind } = statement;
      const [row] = await tx.$queryRawUnsafe<(Reservation & { held: number })[]>(
        `WITH held AS MATERIALIZED (SELECT unpaid_holds_locked(${bind(request.customerId)}, ${bind([...ACTIVE_STATUSES])}::text[]) AS n),
         created AS (
           INSERT INTO reservation AS r (id, customer_id, car_id, pickup_at, return_at, amount, status, hold_expires_at, created_at, updated_at)
           SELECT ${bind(id)}::uuid, ${bind(request.customerId)}, ${bind(input.carId)}, ${bind(iso(period.pickupAt))}::timestamptz,
             ${bind(iso(period.returnAt))}::timestamptz, ${bind(amount)}::int, 'RESERVED', ${bind(iso(holdExpiresAt))}::timestamptz,
             ${bind(iso(createdAt))}::timestamptz, ${bind(iso(createdAt))}::timestamptz
            WHERE (SELECT n FROM held) < ${bind(deps.holds.maxUnpaidHolds)}::int
           RETURNING ${RESERVATION_COLUMNS}),
         event AS (${outboxInsertSql(bind, [event], {
           when: "EXISTS (SELECT 1 FROM created)",
           delayMs: deps.registrationGraceMs ?? 0,
         })})
         SELECT created.*, held.n AS held FROM held LEFT JOIN created ON true`,
        ...statement.values);
      if (!row?.id) {
        const max = deps.holds.maxUnpaidHolds;
        throw limitExceeded(`you already hold ${row?.held ?? max} unpaid reservations (at most ${max}); pay or cancel one first`, { limit: max, field: "MAX_UNPAID_HOLDS" });
      }
      const { held: _, ...reservation } = row;
      return { reservation, registrationEventId: event.eventId, days: period.days };
    }, ({ reservation }) => reservation.id, { directWhenNoKey: deps.sql });
  } catch (error) {
    if (!hasSqlState(error, EXCLUSION_VIOLATION)) throw error;
    throw conflict(`car ${input.carId} is already reserved for an overlapping period`, {
      carId: input.carId,
      pickupAt: input.pickupAt.toISOString(),
      returnAt: input.returnAt.toISOString(),
    });
  }
}

/** The car's daily rate in KRW, or null when the car is unknown or inactive. */
async function rateOf(db: SqlClient, carId: string): Promise<number | null> {
  const [row] = await db.$queryRawUnsafe<{ dailyRate: number }[]>(`SELECT daily_rate AS "dailyRate" FROM car_rate WHERE car_id = $1 AND active`, carId);
  return row?.dailyRate ?? null;
}

/**
 * The cancellation saga's first step, shared by the customer's cancelReservation and the
 * expiry of an unpaid hold (PaymentExpired): an active reservation not picked up (and, for
 * EXPIRED, not paid) becomes CANCELLED with its reason, and ReservationCancelled is emitted in
 * the same transaction (payment refunds or cancels, rental cancels).
 * @returns false when the reservation was no longer cancellable (nothing written).
 */
export async function cancelActive(tx: SqlClient, reservation: Reservation, reason: CancellationReason): Promise<boolean> {
  const event = createEvent("ReservationCancelled", { reservationId: reservation.id, customerId: reservation.customerId },
    { carId: reservation.carId, amount: reservation.amount });
  const statement = new Statement();
  const { bind } = statement;
  const [row] = await tx.$queryRawUnsafe<{ cancelled: number }[]>(
    `WITH cancelled AS (
       UPDATE reservation SET status = 'CANCELLED', cancellation_reason = ${bind(reason)}::"CancellationReason", updated_at = now()
        WHERE id = ${bind(reservation.id)}::uuid AND status::text = ANY(${bind([...ACTIVE_STATUSES])}::text[]) AND picked_up_at IS NULL
          ${reason === "EXPIRED" ? "AND paid_at IS NULL" : ""}
       RETURNING id),
     event AS (${outboxInsertSql(bind, [event], { when: "EXISTS (SELECT 1 FROM cancelled)" })})
     SELECT count(*)::int AS cancelled FROM cancelled`, ...statement.values);
  if (row?.cancelled !== 1) return false;
  await project(tx, reservation.id);
  return true;
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
