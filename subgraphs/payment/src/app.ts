import { createPrismaAdapter } from "@rentcar/db";
import { startSubgraphService, type HttpService } from "@rentcar/platform";
import type { PaymentContext } from "./context.ts";
import type { PaymentEnv } from "./env.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { createLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

/** SDL of the payment subgraph (also read by `npm run compose`). */
export const paymentTypeDefsUrl = new URL("schema.graphql", import.meta.url);

/** Starts the payment subgraph, serving `/graphql` on `env.PORT`. */
export async function startPaymentSubgraph(env: PaymentEnv): Promise<HttpService> {
  const db = new PrismaClient({ adapter: createPrismaAdapter(env.DATABASE_URL, { max: env.DATABASE_POOL_MAX }) });
  return startSubgraphService<PaymentContext>({
    name: "payment",
    env,
    typeDefs: paymentTypeDefsUrl,
    resolvers,
    db,
    extendContext: (base) => ({ ...base, db, loaders: createLoaders(db) }),
  });
}
