import { randomUUID } from "node:crypto";
import { createEvent, inboxInsertSql, outboxInsertSql, type DomainEvent } from "@rentcar/events";
import type { SqlClient } from "@rentcar/platform";
import type { RentalStatus } from "./generated/prisma/client.ts";

/*
 * The statements of rental's event handlers in plain SQL, in one place: they run on the
 * consumer's plain-SQL transaction (createSqlClient in @rentcar/db), one statement where
 * Prisma model calls took two (read, then create or update). Measured with
 * `npm run bench -- saga-write` ("cost: rental SQL statements/saga", "CPU/saga").
 */

/** A rental's id and car, as the events carry them. */
export interface RentalRef {
  id: string;
  carId: string;
}

/**
 * Creates the rental of a reservation in `status` unless one exists (any status, also a
 * CANCELLED tombstone), in one statement.
 * @returns the new rental, or undefined when one existed (or a concurrent transaction created it).
 */
export async function insertRental(db: SqlClient, rental: { reservationId: string; customerId: string; carId: string; status: RentalStatus }): Promise<RentalRef | undefined> {
  const [row] = await db.$queryRawUnsafe<RentalRef[]>(
    `INSERT INTO rental (id, reservation_id, customer_id, car_id, status, updated_at)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5::"RentalStatus", now())
     ON CONFLICT (reservation_id) DO NOTHING
     RETURNING id, car_id AS "carId"`,
    randomUUID(), rental.reservationId, rental.customerId, rental.carId, rental.status,
  );
  return row;
}

/**
 * PaymentCompleted applied exactly once in one autocommit statement: records the event in the
 * inbox and, only if that insert happened, creates the READY rental unless the reservation has
 * one (any status, also a CANCELLED tombstone) and, only if it was created, emits RentalReady.
 * @returns false when the event had already been applied.
 */
export async function insertReadyRentalOnce(db: SqlClient, event: DomainEvent<"PaymentCompleted">): Promise<boolean> {
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  const rentalId = randomUUID();
  const ready = createEvent("RentalReady", event, { rentalId, carId: event.payload.carId });
  const [row] = await db.$queryRawUnsafe<{ recorded: number }[]>(
    `WITH inbox AS (${inboxInsertSql(bind, event)}),
     created AS (
       INSERT INTO rental (id, reservation_id, customer_id, car_id, status, updated_at)
       SELECT ${bind(rentalId)}::uuid, ${bind(event.reservationId)}::uuid, ${bind(event.customerId)}, ${bind(event.payload.carId)}, 'READY', now()
        WHERE EXISTS (SELECT 1 FROM inbox)
       ON CONFLICT (reservation_id) DO NOTHING
       RETURNING id),
     emitted AS (${outboxInsertSql(bind, [ready], { when: "EXISTS (SELECT 1 FROM created)" })})
     SELECT count(*)::int AS recorded FROM inbox`, ...values);
  return (row?.recorded ?? 0) > 0;
}

/** READY -> CANCELLED for the rental of a reservation. @returns it, or undefined when none was READY. */
export async function cancelReadyRental(db: SqlClient, reservationId: string): Promise<RentalRef | undefined> {
  const [row] = await db.$queryRawUnsafe<RentalRef[]>(
    `UPDATE rental SET status = 'CANCELLED', updated_at = now() WHERE reservation_id = $1::uuid AND status = 'READY'
     RETURNING id, car_id AS "carId"`,
    reservationId,
  );
  return row;
}

/** The status of a reservation's rental, or undefined when it has none. */
export async function rentalStatusOf(db: SqlClient, reservationId: string): Promise<RentalStatus | undefined> {
  const [row] = await db.$queryRawUnsafe<{ status: RentalStatus }[]>(
    `SELECT status::text AS status FROM rental WHERE reservation_id = $1::uuid`, reservationId);
  return row?.status;
}
