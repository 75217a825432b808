import type { RequestContext } from "@rentcar/platform";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { PaymentLoaders } from "./loaders.ts";

export interface PaymentContext extends RequestContext {
  db: PrismaClient;
  loaders: PaymentLoaders;
}
