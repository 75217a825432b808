import { redisEndpoint } from "@rentcar/platform";
import { Cluster, Redis, type RedisOptions } from "ioredis";

const retryStrategy = (times: number) => Math.min(100 * 2 ** times, 2_000);

/**
 * An ioredis connection for REDIS_URL: `Redis` for one server, `Cluster` for a
 * `redis+cluster://` URL (seeded from its host; credentials and TLS apply to every node).
 * A Cluster is returned under the `Redis` type: it has everything BullMQ and our callers
 * use (commands routed by key slot, PUBLISH, defineCommand, status, disconnect), and
 * BullMQ accepts either. Queue keys share a slot because QUEUE_PREFIX is hash-tagged.
 */
function connect(url: string, options: RedisOptions): Redis {
  const endpoint = redisEndpoint(url);
  if (!endpoint.cluster) return new Redis(url, options);
  const { enableOfflineQueue, ...nodeOptions } = options;
  return new Cluster([{ host: endpoint.host, port: endpoint.port }], {
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: enableOfflineQueue ?? true,
    slotsRefreshTimeout: 2_000,
    // Managed clusters announce node addresses that are only valid with TLS on the same names.
    ...(endpoint.tls ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
    redisOptions: {
      ...nodeOptions,
      ...(endpoint.username ? { username: endpoint.username } : {}),
      ...(endpoint.password ? { password: endpoint.password } : {}),
      ...(endpoint.tls ? { tls: {} } : {}),
    },
  }) as unknown as Redis;
}

/**
 * Connection for BullMQ producers (the outbox relay, DLQ writes): fails fast while Redis
 * is down (no offline queue, one retry per request) so the relay backs off and the
 * events stay safely in the outbox.
 */
export function producerConnection(url: string): Redis {
  return connect(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy, lazyConnect: false });
}

/** Connection settings BullMQ requires for workers: blocking commands, `maxRetriesPerRequest: null`, reconnect forever. */
export function workerConnection(url: string): Redis {
  return connect(url, { maxRetriesPerRequest: null, connectTimeout: 2_000, retryStrategy });
}

/** Connection for command-line tools (`npm run queues`): one retry per command, then a clear error. */
export function toolConnection(url: string): Redis {
  return connect(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy });
}
