/**
 * Raw SQL helpers of the hot write path (reserveCar and the event handlers), where one
 * statement per step instead of one Prisma model call per row measurably saves CPU
 * (docs/performance.md). Everything else uses the Prisma client.
 */

/** Collects the parameters of one raw statement: `bind(value)` returns its placeholder (`$n`). */
export class Statement {
  readonly values: unknown[] = [];
  readonly bind = (value: unknown): string => `$${this.values.push(value)}`;
}

/**
 * The columns of `reservation` under the names of the generated `Reservation` type, for
 * raw statements whose rows are handed on as Prisma `Reservation`s. `r` is the table alias.
 */
export const RESERVATION_COLUMNS = `r.id, r.customer_id AS "customerId", r.car_id AS "carId", r.pickup_at AS "pickupAt",
  r.return_at AS "returnAt", r.amount, r.status::text AS status, r.payment_id AS "paymentId", r.picked_up_at AS "pickedUpAt",
  r.paid_at AS "paidAt", r.hold_expires_at AS "holdExpiresAt", r.cancellation_reason::text AS "cancellationReason",
  r.created_at AS "createdAt", r.updated_at AS "updatedAt"`;

/** A timestamp parameter (ISO text, cast in SQL): independent of how the driver would serialise a Date. */
export const iso = (date: Date | null): string | null => date?.toISOString() ?? null;
