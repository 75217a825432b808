import { createClient, createCluster } from "redis";
import type { Logger } from "pino";
import type { ReadinessCheck } from "./health.ts";

/** Where REDIS_URL points: one server, or a seed node of a Redis Cluster. */
export interface RedisEndpoint {
  /** True for `redis+cluster://` and `rediss+cluster://`. */
  cluster: boolean;
  /** The same URL with the plain scheme (`redis://` or `rediss://`). */
  url: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** The schemes REDIS_URL accepts (`+cluster`: the host is any node of a Redis Cluster). */
export const REDIS_URL_SCHEMES = ["redis:", "rediss:", "redis+cluster:", "rediss+cluster:"] as const;

/**
 * Parses REDIS_URL: `redis://[user:password@]host:port` (TLS: `rediss://`) for one Redis
 * server, `redis+cluster://...` (TLS: `rediss+cluster://...`) for a Redis Cluster, whose
 * host is a seed node or the managed service's configuration endpoint; the clients
 * discover the other nodes and use the same credentials and TLS for them.
 * @throws Error for another scheme.
 */
export function redisEndpoint(redisUrl: string): RedisEndpoint {
  const parsed = new URL(redisUrl);
  if (!(REDIS_URL_SCHEMES as readonly string[]).includes(parsed.protocol)) {
    throw new Error(`REDIS_URL must start with ${REDIS_URL_SCHEMES.map((s) => `${s}//`).join(", ")}`);
  }
  const cluster = parsed.protocol.endsWith("+cluster:");
  const tls = parsed.protocol.startsWith("rediss");
  const url = redisUrl.replace(/^(rediss?)\+cluster:/, "$1:");
  return {
    cluster, url, tls,
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

export interface RedisClientOptions {
  connectTimeoutMs?: number;
  /** Reconnect after a lost connection (capped back-off to 2 s); default true. */
  reconnect?: boolean;
}

/**
 * A node-redis client for REDIS_URL, not yet connected: a plain client for one server,
 * a cluster client for `+cluster` URLs. The cluster client is typed as the plain one: it
 * has every method the services use (commands route by key slot; PING goes to any node;
 * SUBSCRIBE uses one node, which is enough because PUBLISH reaches every node).
 */
export function createRedisClient(redisUrl: string, options: RedisClientOptions = {}) {
  const endpoint = redisEndpoint(redisUrl);
  const socket = {
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    reconnectStrategy: options.reconnect === false ? (false as const) : (retries: number) => Math.min(100 * 2 ** retries, 2_000),
  };
  if (!endpoint.cluster) return createClient({ url: redisUrl, disableOfflineQueue: true, socket });
  const cluster = createCluster({
    rootNodes: [{ url: endpoint.url }],
    defaults: {
      disableOfflineQueue: true,
      socket: { ...socket, ...(endpoint.tls ? { tls: true as const } : {}) },
      ...(endpoint.username ? { username: endpoint.username } : {}),
      ...(endpoint.password ? { password: endpoint.password } : {}),
    },
  });
  return cluster as unknown as ReturnType<typeof createClient>;
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
  if (redisEndpoint(url).cluster) return connectClusterClient(client, log);
  // Not awaited: a service starts (not ready) while Redis is down and becomes ready when it returns.
  client.connect().catch((error: Error) => log.error({ err: error.message }, "redis connect failed"));
  return client;
}

/**
 * A cluster client gives up its first discovery of the slots when no node answers (a
 * plain client keeps reconnecting), and refuses SUBSCRIBE until discovery is done (a
 * plain client queues it). So: retry discovery with capped back-off until it succeeds,
 * and make `subscribe` wait for it. Other commands fail fast until then, as on one server.
 */
function connectClusterClient(client: RedisClient, log: Logger): RedisClient {
  const connected = (async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.connect();
        return;
      } catch (error) {
        if (attempt === 0) log.warn({ err: (error as Error).message }, "redis cluster not reachable; retrying");
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2_000)).unref());
      }
    }
  })();
  const subscribe = client.subscribe.bind(client);
  const waitingSubscribe = async (...args: Parameters<typeof subscribe>) => {
    await connected;
    return subscribe(...args);
  };
  return Object.assign(client, { subscribe: waitingSubscribe, SUBSCRIBE: waitingSubscribe });
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
