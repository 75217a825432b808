import type { DomainEvent, EventEnvelope } from "./contracts.ts";
import type { SqlClient } from "./sql-client.ts";

/** Adds a parameter to the statement being built and returns its placeholder (`$n`). */
export type BindParameter = (value: unknown) => string;

/** Options of {@link outboxInsertSql}. */
export interface OutboxInsertOptions {
  /** SQL boolean: the rows are inserted only if it holds, e.g. `EXISTS (SELECT 1 FROM created)`. */
  when?: string;
  /**
   * Not relayed before this many ms after the transaction started (database clock; default
   * 0: at once). For an event that is normally withdrawn right after commit, so the relay
   * does not publish it in the meantime.
   */
  delayMs?: number;
}

/**
 * The INSERT of `events` into the outbox as one SQL statement, with parameters added
 * through `bind`: for {@link appendToOutbox}, or embedded in a larger statement (a
 * data-modifying `WITH`), so a state change and its events cost one round trip.
 */
export function outboxInsertSql(bind: BindParameter, events: readonly DomainEvent[], options: OutboxInsertOptions = {}): string {
  const availableAt = options.delayMs ? `now() + ${bind(options.delayMs)}::int * interval '1 millisecond'` : "now()";
  const rows = events.map((event) =>
    `(${bind(event.eventId)}::uuid, ${bind(event.type)}::text, ${bind(event.reservationId)}::uuid, ${bind(JSON.stringify(event))}::jsonb, ${availableAt})`);
  return `INSERT INTO outbox_event (id, type, reservation_id, payload, available_at)
    SELECT * FROM (VALUES ${rows.join(", ")}) AS e(id, type, reservation_id, payload, available_at)${options.when ? ` WHERE ${options.when}` : ""}`;
}

/**
 * The INSERT of one event whose payload is computed by SQL: one row per row of `from` (a
 * relation of the enclosing statement, e.g. a data-modifying WITH clause's RETURNING), the
 * envelope bound as a parameter and `payloadSql` (a jsonb expression over `from`'s columns)
 * merged in as `payload`. For a statement that changes a row and emits an event made of the
 * changed row's values, without reading the row first. The caller's `from` and WHERE clauses
 * must guarantee that the payload matches the event's contract: it is not parsed here (the
 * consumers still validate every event they receive).
 */
export function outboxInsertSelectSql(bind: BindParameter, envelope: EventEnvelope, payloadSql: string, from: string): string {
  return `INSERT INTO outbox_event (id, type, reservation_id, payload, available_at)
    SELECT ${bind(envelope.eventId)}::uuid, ${bind(envelope.type)}::text, ${bind(envelope.reservationId)}::uuid,
      ${bind(JSON.stringify(envelope))}::jsonb || jsonb_build_object('payload', ${payloadSql}), now() FROM ${from}`;
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
