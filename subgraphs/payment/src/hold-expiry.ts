import { appendToOutbox, createEvent } from "@rentcar/events";
import { startPeriodicTask, type Logger, type PeriodicTask } from "@rentcar/platform";
import type { PaymentSql } from "./context.ts";

interface DuePayment {
  id: string;
  reservation_id: string;
  customer_id: string;
  expires_at: Date;
}

/**
 * Expires REQUESTED payments whose hold deadline (`expires_at`) has passed: REQUESTED ->
 * CANCELLED and PaymentExpired (reservation then cancels the reservation, reason EXPIRED) in one
 * transaction. Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas never expire one twice
 * and a payReservation holding the row is never waited for: if it pays, the row is no longer
 * REQUESTED; if it has not, it finds the row expired (its own condition checks the deadline too).
 * The deadline is a column, so neither a restart nor a Redis outage loses it.
 * A sweep with nothing due costs one read and no transaction (it runs every HOLD_EXPIRY_SWEEP_MS).
 * @returns how many payments expired.
 */
export async function expireUnpaidPayments(db: PaymentSql, batchSize = 100, now = new Date()): Promise<number> {
  const [due] = await db.$queryRawUnsafe<{ due: boolean }[]>(
    `SELECT EXISTS (SELECT 1 FROM payment WHERE status = 'REQUESTED' AND expires_at <= $1::timestamptz) AS due`, now);
  if (!due?.due) return 0;
  return db.$transaction(async (tx) => {
    // Claim and expire in one statement; updated_at is the real time (payReservation compares it with the deadline).
    const expired = await tx.$queryRawUnsafe<DuePayment[]>(
      `UPDATE payment SET status = 'CANCELLED', updated_at = $3::timestamptz
       WHERE id IN (SELECT id FROM payment WHERE status = 'REQUESTED' AND expires_at <= $1::timestamptz
                    ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING id, reservation_id, customer_id, expires_at`,
      now, batchSize, new Date(),
    );
    if (expired.length === 0) return 0;
    await appendToOutbox(tx, ...expired.map((payment) => createEvent("PaymentExpired",
      { reservationId: payment.reservation_id, customerId: payment.customer_id },
      { paymentId: payment.id, expiredAt: payment.expires_at.toISOString() })));
    return expired.length;
  });
}

/** Runs {@link expireUnpaidPayments} every `intervalMs` (HOLD_EXPIRY_SWEEP_MS) until closed. */
export function startHoldExpiry(options: { db: PaymentSql; intervalMs: number; log: Logger; published(): void }): PeriodicTask {
  return startPeriodicTask({
    name: "hold-expiry",
    intervalMs: options.intervalMs,
    log: options.log,
    run: async () => {
      let expired = 0;
      for (let batch = await expireUnpaidPayments(options.db); batch > 0; batch = await expireUnpaidPayments(options.db)) {
        expired += batch;
        options.published();
      }
      if (expired > 0) options.log.info({ expired }, "unpaid holds expired");
    },
  });
}
