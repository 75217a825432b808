import { createPrismaAdapter } from "@rentcar/db";
import { startEventBus, type EventBus } from "@rentcar/events";
import { startSubgraphService, type HttpService } from "@rentcar/platform";
import type { PaymentContext } from "./context.ts";
import type { PaymentEnv } from "./env.ts";
import { paymentEventHandlers } from "./event-handlers.ts";
import { PrismaClient } from "./generated/prisma/client.ts";
import { createLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

/** SDL of the payment subgraph (also read by `npm run compose`). */
export const paymentTypeDefsUrl = new URL("schema.graphql", import.meta.url);

/** Starts the payment subgraph (`/graphql` on `env.PORT`), its outbox relay and its event consumer. */
export async function startPaymentSubgraph(env: PaymentEnv): Promise<HttpService> {
  const db = new PrismaClient({ adapter: createPrismaAdapter(env.DATABASE_URL, { max: env.DATABASE_POOL_MAX }) });
  let bus: EventBus | undefined;
  return startSubgraphService<PaymentContext>({
    name: "payment",
    env,
    typeDefs: paymentTypeDefsUrl,
    resolvers,
    db,
    extendContext: (base) => ({ ...base, db, loaders: createLoaders(db), published: () => bus?.relay.kick() }),
    startWorkers: (log) => (bus = startEventBus({
      name: "payment", db, handlers: paymentEventHandlers, redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, log, lockDurationMs: env.EVENT_LOCK_MS,
    })),
  });
}
