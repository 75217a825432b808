import { Redis, type RedisOptions } from "ioredis";

const retryStrategy = (times: number) => Math.min(100 * 2 ** times, 2_000);

/**
 * Connection for BullMQ producers (the outbox relay, DLQ writes): fails fast while Redis
 * is down (no offline queue, one retry per request) so the relay backs off and the
 * events stay safely in the outbox.
 */
export function producerConnection(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy, lazyConnect: false } satisfies RedisOptions);
}

/** Connection settings BullMQ requires for workers: blocking commands, `maxRetriesPerRequest: null`, reconnect forever. */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectTimeout: 2_000, retryStrategy } satisfies RedisOptions);
}
