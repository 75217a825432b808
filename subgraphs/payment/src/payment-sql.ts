import { randomUUID } from "node:crypto";
import { outboxInsertSelectSql, type EventEnvelope } from "@rentcar/events";
import type { SqlClient } from "@rentcar/platform";
import type { Payment } from "./generated/prisma/client.ts";

/*
 * The payment saga's hot path in plain SQL, in one place. Each function is one statement
 * where the Prisma model calls it replaces took two (insert then read back, read then
 * conditional update then read back): fewer round trips, and no query compilation or
 * model mapping per call. Measured with `npm run bench -- saga-write` ("cost: payment SQL
 * statements/saga", "CPU/saga"); see the commit that introduced it. Everything else
 * (reads by loaders, compensation, tests) keeps using the Prisma client.
 */

/** Columns of `payment` as a {@link Payment} (camelCase), for RETURNING and SELECT. */
const PAYMENT_COLUMNS = `id, reservation_id AS "reservationId", customer_id AS "customerId", car_id AS "carId", amount,
  status::text AS status, card_last4 AS "cardLast4", paid_at AS "paidAt", expires_at AS "expiresAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** A new REQUESTED payment's terms. */
export interface PaymentTerms {
  reservationId: string;
  customerId: string;
  /** KRW. */
  amount: number;
  carId: string;
  expiresAt: Date | null;
}

/**
 * Inserts the REQUESTED payment of a reservation unless one exists, and returns the row
 * that is there now (the new one or the existing one, any status), in one statement.
 * `ON CONFLICT DO NOTHING` never fails nor aborts a transaction, so the synchronous
 * registration and the background one may race. When the conflicting row was committed
 * by a concurrent transaction after this statement's snapshot, the statement sees no row;
 * a second read (new snapshot) then finds it.
 */
export async function insertRequestedPayment(db: SqlClient, terms: PaymentTerms): Promise<Payment> {
  const [row] = await db.$queryRawUnsafe<Payment[]>(
    `WITH inserted AS (
       INSERT INTO payment (id, reservation_id, customer_id, amount, car_id, expires_at, updated_at)
       VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::timestamptz, now())
       ON CONFLICT (reservation_id) DO NOTHING
       RETURNING ${PAYMENT_COLUMNS})
     SELECT * FROM inserted
     UNION ALL
     SELECT ${PAYMENT_COLUMNS} FROM payment WHERE reservation_id = $2::uuid AND NOT EXISTS (SELECT 1 FROM inserted)`,
    randomUUID(), terms.reservationId, terms.customerId, terms.amount, terms.carId, terms.expiresAt,
  );
  if (row) return row;
  const raced = await paymentOfReservation(db, terms.reservationId);
  if (!raced) throw new Error(`payment of reservation ${terms.reservationId} neither inserted nor found`);
  return raced;
}

/** The payment of a reservation, or undefined. */
export async function paymentOfReservation(db: SqlClient, reservationId: string): Promise<Payment | undefined> {
  const [row] = await db.$queryRawUnsafe<Payment[]>(`SELECT ${PAYMENT_COLUMNS} FROM payment WHERE reservation_id = $1::uuid`, reservationId);
  return row;
}

/** A payment by id, or undefined. */
export async function paymentById(db: SqlClient, id: string): Promise<Payment | undefined> {
  const [row] = await db.$queryRawUnsafe<Payment[]>(`SELECT ${PAYMENT_COLUMNS} FROM payment WHERE id = $1::uuid`, id);
  return row;
}

/**
 * REQUESTED -> PAID for the customer's payment of a reservation, only before its hold deadline
 * (`expires_at`, compared with `now`), and its PaymentCompleted (envelope `event`; the payload,
 * paymentId, amount and carId, is taken from the row the update changed) into the outbox, in
 * one statement: atomic without a transaction, and no read before it. One conditional update,
 * so concurrent payments and the expiry sweep (which claims rows FOR UPDATE SKIP LOCKED and
 * updates only REQUESTED ones) decide on this one row. A payment without a car (rows older than
 * car ids) or with a negative amount is never paid here: the payload would break the contract.
 * @returns the paid payment, or undefined when nothing was paid (none of this customer's for the
 *   reservation, not REQUESTED, past its deadline, or no car): the caller reads the row to say why.
 */
export async function markPaid(db: SqlClient, input: { reservationId: string; customerId: string; cardLast4: string; now: Date; event: EventEnvelope<"PaymentCompleted"> }): Promise<Payment | undefined> {
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  const now = `${bind(input.now)}::timestamptz`;
  const payload = `jsonb_build_object('paymentId', paid.id, 'amount', paid.amount, 'carId', paid."carId")`;
  const [row] = await db.$queryRawUnsafe<Payment[]>(
    `WITH paid AS (
       UPDATE payment SET status = 'PAID', card_last4 = ${bind(input.cardLast4)}, paid_at = ${now}, updated_at = ${now}
        WHERE reservation_id = ${bind(input.reservationId)}::uuid AND customer_id = ${bind(input.customerId)}
          AND status = 'REQUESTED' AND (expires_at IS NULL OR expires_at > ${now}) AND car_id <> '' AND amount >= 0
       RETURNING ${PAYMENT_COLUMNS}),
     emitted AS (${outboxInsertSelectSql(bind, input.event, payload, "paid")})
     SELECT * FROM paid`,
    ...values,
  );
  return row;
}

/** What compensation did to a payment. */
export interface Compensated {
  id: string;
  carId: string | null;
  outcome: "REFUNDED" | "CANCELLED";
}

/**
 * Compensation for a cancelled reservation, one conditional update: PAID -> REFUNDED,
 * REQUESTED -> CANCELLED.
 * @returns what it did, or undefined when there is no payment to compensate (none visible
 *   to this statement, or already REFUNDED or CANCELLED).
 */
export async function compensatePayment(db: SqlClient, reservationId: string): Promise<Compensated | undefined> {
  const [row] = await db.$queryRawUnsafe<Compensated[]>(
    `UPDATE payment SET status = (CASE WHEN status = 'PAID' THEN 'REFUNDED' ELSE 'CANCELLED' END)::"PaymentStatus", updated_at = now()
     WHERE reservation_id = $1::uuid AND status IN ('PAID', 'REQUESTED')
     RETURNING id, car_id AS "carId", status::text AS outcome`,
    reservationId,
  );
  return row;
}

/**
 * Inserts a CANCELLED tombstone for a reservation cancelled before its payment was
 * registered, so a registration arriving later cannot resurrect it.
 * @returns the tombstone, or undefined when a payment already exists.
 */
export async function insertCancelledPayment(db: SqlClient, terms: Omit<PaymentTerms, "expiresAt">): Promise<Compensated | undefined> {
  const [row] = await db.$queryRawUnsafe<Compensated[]>(
    `INSERT INTO payment (id, reservation_id, customer_id, amount, car_id, status, updated_at)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5, 'CANCELLED', now())
     ON CONFLICT (reservation_id) DO NOTHING
     RETURNING id, car_id AS "carId", status::text AS outcome`,
    randomUUID(), terms.reservationId, terms.customerId, terms.amount, terms.carId,
  );
  return row;
}
