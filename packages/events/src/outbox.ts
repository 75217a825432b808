import type { DomainEvent } from "./contracts.ts";
import type { SqlClient } from "./sql-client.ts";

/** Adds a parameter to the statement being built and returns its placeholder (`$n`). */
export type BindParameter = (value: unknown) => string;

/**
 * The INSERT of `events` into the outbox as one SQL statement, with parameters added
 * through `bind`: for {@link appendToOutbox}, or embedded in a larger statement (a
 * data-modifying `WITH`), so a state change and its events cost one round trip.
 * `when` (SQL boolean, optional) inserts the rows only if it holds, e.g.
 * `EXISTS (SELECT 1 FROM created)`.
 */
export function outboxInsertSql(bind: BindParameter, events: readonly DomainEvent[], when?: string): string {
  const rows = events.map((event) =>
    `(${bind(event.eventId)}::uuid, ${bind(event.type)}::text, ${bind(event.reservationId)}::uuid, ${bind(JSON.stringify(event))}::jsonb)`);
  return `INSERT INTO outbox_event (id, type, reservation_id, payload)
    SELECT * FROM (VALUES ${rows.join(", ")}) AS e(id, type, reservation_id, payload)${when ? ` WHERE ${when}` : ""}`;
}

/**
 * Writes events to the outbox inside the caller's transaction, so they commit (or roll
 * back) together with the state change that caused them; the relay publishes them later.
 * All events go in one statement.
 */
export async function appendToOutbox(tx: SqlClient, ...events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const values: unknown[] = [];
  const sql = outboxInsertSql((value) => `$${values.push(value)}`, events);
  await tx.$executeRawUnsafe(sql, ...values);
}

/** Number of events not yet published (for tests, metrics and the operator view). */
export async function pendingOutboxCount(db: SqlClient): Promise<number> {
  const rows = await db.$queryRawUnsafe<{ count: bigint | number }[]>(`SELECT count(*) AS count FROM outbox_event WHERE published_at IS NULL`);
  return Number(rows[0]?.count ?? 0);
}
