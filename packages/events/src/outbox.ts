import type { DomainEvent } from "./contracts.ts";
import type { SqlClient } from "./sql-client.ts";

/**
 * Writes events to the outbox inside the caller's transaction, so they commit (or roll
 * back) together with the state change that caused them; the relay publishes them later.
 */
export async function appendToOutbox(tx: SqlClient, ...events: DomainEvent[]): Promise<void> {
  for (const event of events) {
    await tx.$executeRawUnsafe(
      `INSERT INTO outbox_event (id, type, reservation_id, payload) VALUES ($1::uuid, $2, $3::uuid, $4::jsonb)`,
      event.eventId, event.type, event.reservationId, JSON.stringify(event),
    );
  }
}

/** Number of events not yet published (for tests, metrics and the operator view). */
export async function pendingOutboxCount(db: SqlClient): Promise<number> {
  const rows = await db.$queryRawUnsafe<{ count: bigint | number }[]>(`SELECT count(*) AS count FROM outbox_event WHERE published_at IS NULL`);
  return Number(rows[0]?.count ?? 0);
}
