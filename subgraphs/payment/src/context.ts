import type { Idempotency, RequestContext, SqlClient, TransactionalClient } from "@rentcar/platform";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { PaymentLoaders } from "./loaders.ts";

export interface PaymentContext extends RequestContext {
  /** Reads (loaders). */
  db: PrismaClient;
  /** The same pool in plain SQL: the mutations' and events' statements (payment-sql.ts). */
  sql: PaymentSql;
  loaders: PaymentLoaders;
  /** Claims `Idempotency-Key`s in the same transaction as payReservation's write. */
  idempotency: Idempotency;
  /** Tells the outbox relay that events were committed (publish now rather than at the next poll). */
  published(): void;
}

/** Plain SQL with transactions: `createSqlClient` from @rentcar/db, or a Prisma client (tests). */
export type PaymentSql = SqlClient & TransactionalClient<SqlClient>;
