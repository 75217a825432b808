import { badUserInput, conflict, forbidden, notFound, parseUuid, type Idempotency, type RequestContext, type SqlClient } from "@rentcar/platform";
import { createEventEnvelope } from "@rentcar/events";
import type { PaymentSql } from "./context.ts";
import type { Payment } from "./generated/prisma/client.ts";
import { cardLast4 } from "./card.ts";
import { insertRequestedPayment, markPaid, paymentById, paymentOfReservation } from "./payment-sql.ts";

export interface RegisterPaymentInput {
  reservationId: string;
  customerId: string;
  /** KRW, positive integer. */
  amount: number;
  /** The reserved car, passed on to rental with PaymentCompleted. */
  carId: string;
  /** Deadline of the unpaid hold (UTC): not paid by then, the payment expires. Absent: no deadline. */
  expiresAt?: Date | null | undefined;
}

/**
 * Registers the REQUESTED payment of a reservation. Idempotent on `reservationId`
 * (the correlation key), so the reservation subgraph may retry after a timeout.
 * @throws FORBIDDEN unless called by the reservation service; BAD_USER_INPUT for a bad amount;
 *   CONFLICT when a payment with other terms already exists for the reservation.
 */
export async function registerPayment(db: SqlClient, ctx: RequestContext, input: RegisterPaymentInput): Promise<Payment> {
  if (ctx.caller.issuer !== "reservation") throw forbidden("only the reservation service registers payments");
  const reservationId = parseUuid(input.reservationId, "reservationId");
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw badUserInput("amount must be a positive integer (KRW)");
  const payment = await upsertRequestedPayment(db, { ...input, reservationId });
  ctx.log.info({ reservationId, paymentId: payment.id, amount: payment.amount }, "payment registered");
  return payment;
}

/**
 * Creates the REQUESTED payment of a reservation, or returns the existing one (any
 * status: a payment cancelled before it was registered stays CANCELLED).
 * @throws CONFLICT when the existing payment has other terms.
 */
export async function upsertRequestedPayment(db: SqlClient, input: RegisterPaymentInput): Promise<Payment> {
  const payment = await insertRequestedPayment(db, { ...input, expiresAt: input.expiresAt ?? null });
  if (payment.customerId !== input.customerId || payment.amount !== input.amount) {
    throw conflict(`reservation ${input.reservationId} already has a payment with other terms`, { reservationId: input.reservationId });
  }
  return payment;
}

export interface PayReservationInput {
  reservationId: string;
  cardNumber: string;
}

/**
 * Pays the caller's reservation: REQUESTED -> PAID, storing only the card's last 4
 * digits, and emits PaymentCompleted through the outbox in the same transaction. Safe
 * under concurrent calls (conditional update); paying twice returns the already PAID payment.
 * An `Idempotency-Key` is claimed in the same transaction (its fingerprint is an HMAC, so the
 * card number is not stored); a retry with it returns the same payment.
 * @throws BAD_USER_INPUT (card, id, reused key), NOT_FOUND (no payment of this customer for the
 *   reservation), CONFLICT (payment cancelled or refunded, or its hold expired: `extensions.reason` EXPIRED).
 */
export async function payReservation(db: PaymentSql, idempotency: Idempotency, ctx: RequestContext, customerId: string, input: PayReservationInput): Promise<Payment> {
  const last4 = cardLast4(input.cardNumber);
  const reservationId = parseUuid(input.reservationId, "reservationId");
  const log = ctx.log.child({ reservationId });
  const request = {
    customerId,
    key: ctx.idempotencyKey,
    operation: "payReservation",
    input: { reservationId, cardNumber: input.cardNumber.replace(/[\s-]/g, "") },
  };
  // Without an Idempotency-Key no transaction is needed: the one write (markPaid) is a single
  // statement that decides on the row as it is, not on an earlier read.
  const outcome = await idempotency.run(db, request, async (tx) => {
    const now = new Date();
    for (let attempt = 0; ; attempt++) {
      // Paid only before the hold's deadline: this conditional update and the expiry sweep's
      // (hold-expiry.ts) change the same row, so a payment is PAID or expired, never both.
      const event = createEventEnvelope("PaymentCompleted", { reservationId, customerId });
      const paid = await markPaid(tx, { reservationId, customerId, cardLast4: last4, now, event });
      if (paid) return { current: paid, paid: true };
      // Nothing was paid: read the row to say why.
      const current = await paymentOfReservation(tx, reservationId);
      // A payable row the update did not see was committed after the update's snapshot (a
      // registration racing this call): the next update (a new snapshot) sees it.
      if (attempt === 0 && current && isPayable(current, customerId, now)) continue;
      return { current: whyNotPaid(current, reservationId, customerId, now), paid: false };
    }
  }, ({ current }) => current.id, { directWhenNoKey: db });
  if (outcome.replayed) {
    const replayed = await paymentById(db, outcome.resultId);
    if (!replayed) throw new Error(`payment ${outcome.resultId} of a replayed Idempotency-Key is gone`);
    return replayed;
  }
  if (outcome.result.paid) log.info({ paymentId: outcome.result.current.id, amount: outcome.result.current.amount }, "payment paid");
  return outcome.result.current;
}

/** Whether markPaid would pay `payment` for `customerId` at `now`. */
function isPayable(payment: Payment, customerId: string, now: Date): boolean {
  return payment.status === "REQUESTED" && payment.customerId === customerId && !!payment.carId && payment.amount >= 0
    && (!payment.expiresAt || payment.expiresAt > now);
}

/**
 * Why payReservation paid nothing, given the reservation's payment as it is now.
 * @returns the payment when it is already PAID (paying twice returns it).
 * @throws NOT_FOUND, CONFLICT (cancelled, refunded, expired: `extensions.reason` EXPIRED), or an
 *   Error for a payment markPaid cannot pay for another reason (no car: it predates car ids).
 */
function whyNotPaid(current: Payment | undefined, reservationId: string, customerId: string, now: Date): Payment {
  if (!current || current.customerId !== customerId) {
    throw notFound(`no payment found for reservation ${reservationId}`, { reservationId });
  }
  if (current.expiresAt && current.expiresAt <= now && (current.status === "REQUESTED" || (current.status === "CANCELLED" && current.updatedAt >= current.expiresAt))) {
    throw conflict(`the unpaid hold of reservation ${reservationId} expired at ${current.expiresAt.toISOString()}; it is cancelled`, {
      reservationId,
      status: current.status,
      reason: "EXPIRED",
    });
  }
  if (current.status === "REQUESTED" && !current.carId) throw new Error(`payment ${current.id} has no carId: it predates car ids on payments`);
  if (current.status !== "PAID") {
    throw conflict(`payment of reservation ${reservationId} is ${current.status} and can no longer be paid`, {
      reservationId,
      status: current.status,
    });
  }
  return current;
}
