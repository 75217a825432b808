/**
 * The slice of a Prisma client (or interactive-transaction client) that shared database
 * code needs: the outbox, inbox and relay (@rentcar/events) and the idempotency keys
 * (./idempotency.ts). Each subgraph has its own generated client; these tables are the same
 * in every subgraph database, so the code is shared instead of copied per subgraph.
 */
export interface SqlClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** A client that can open an interactive transaction. */
export interface TransactionalClient<Tx extends SqlClient> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * Deletes the rows of `table` whose `timeColumn` is older than `retentionMs`, in batches of
 * `batchSize` (short statements, no long lock), until none is left. Retention of the outbox
 * and the idempotency keys: on a PostgreSQL without autovacuum nothing else bounds them.
 * `table` and `timeColumn` are identifiers from our code, never from input. A NULL time
 * (e.g. an outbox row not yet published) never matches.
 * @returns how many rows were deleted.
 */
export async function deleteOlderThan(db: SqlClient, table: string, timeColumn: string, retentionMs: number, batchSize = 1_000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await db.$executeRawUnsafe(
      `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM ${table} WHERE ${timeColumn} < now() - make_interval(secs => $1) LIMIT $2))`,
      retentionMs / 1000, batchSize,
    );
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
