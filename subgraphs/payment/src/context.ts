import type { Idempotency, RequestContext } from "@rentcar/platform";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { PaymentLoaders } from "./loaders.ts";

export interface PaymentContext extends RequestContext {
  db: PrismaClient;
  loaders: PaymentLoaders;
  /** Claims `Idempotency-Key`s in the same transaction as payReservation's write. */
  idempotency: Idempotency;
  /** Tells the outbox relay that events were committed (publish now rather than at the next poll). */
  published(): void;
}
