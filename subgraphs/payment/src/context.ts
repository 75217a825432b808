import type { RequestContext } from "@rentcar/platform";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { PaymentLoaders } from "./loaders.ts";

export interface PaymentContext extends RequestContext {
  db: PrismaClient;
  loaders: PaymentLoaders;
  /** Tells the outbox relay that events were committed (publish now rather than at the next poll). */
  published(): void;
}
