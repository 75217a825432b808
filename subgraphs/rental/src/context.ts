import type { RequestContext } from "@rentcar/platform";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { RentalLoaders } from "./loaders.ts";
import type { RentalDeps } from "./rentals.ts";

export interface RentalContext extends RequestContext {
  db: PrismaClient;
  loaders: RentalLoaders;
  deps: RentalDeps;
  /** Tells the outbox relay that events were committed (publish now rather than at the next poll). */
  published(): void;
}
