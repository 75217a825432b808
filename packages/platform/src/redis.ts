import { createClient } from "redis";
import type { Logger } from "pino";
import type { ReadinessCheck } from "./health.ts";


function createRedisClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
  });
}

export type RedisClient = ReturnType<typeof createRedisClient>;

/**
 * Connects a node-redis client that keeps reconnecting (capped at 2 s between tries)
 * and fails commands fast while disconnected instead of queueing them forever.
 * Returns at once; connection errors are logged, never thrown at the process.
 */
export function connectRedis(url: string, log: Logger): RedisClient {
  const client = createRedisClient(url);
  let reported = false;
  client.on("error", (error: Error) => {
    if (!reported) log.warn({ err: error.message }, "redis connection error; reconnecting");
    reported = true;
  });
  client.on("ready", () => {
    if (reported) log.info("redis connection restored");
    reported = false;
  });
  // Not awaited: a service starts (not ready) while Redis is down and becomes ready when it returns.
  client.connect().catch((error: Error) => log.error({ err: error.message }, "redis connect failed"));
  return client;
}

/** Readiness check that PINGs Redis. */
export const redisReadiness = (client: RedisClient): ReadinessCheck => ({
  name: "redis",
  check: () => client.ping(),
});

/**
 * Closes a client without hanging: politely (QUIT, bounded to 2 s) when connected,
 * otherwise by dropping the socket (a client that is still reconnecting would wait forever).
 */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.isReady) {
    await Promise.race([client.close(), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]).catch(() => {});
  }
  if (client.isOpen) client.destroy();
}
