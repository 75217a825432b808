/**
 * The slice of a Prisma client (or interactive-transaction client) the event
 * infrastructure needs. Every subgraph database has the same `outbox_event` and
 * `inbox_event` tables, so this code is shared instead of copied per subgraph.
 */
export interface SqlClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** A client that can open an interactive transaction. */
export interface TransactionalClient<Tx extends SqlClient> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}
