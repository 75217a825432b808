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
