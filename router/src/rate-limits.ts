import type { ApolloServerPlugin } from "@apollo/server";
import { connectRedis, closeRedis, type Logger } from "@rentcar/platform";
import { GraphQLError } from "graphql";
import { LRUCache } from "lru-cache";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RouterContext } from "./context.ts";

/** Code of a request refused by a rate limit (HTTP 429, with Retry-After). */
export const RATE_LIMITED = "RATE_LIMITED";

export interface RateLimitOptions {
  redisUrl: string;
  /** Key prefix in Redis (QUEUE_PREFIX), so environments and test runs never share counters. */
  prefix: string;
  requestsPerWindow: number;
  mutationsPerWindow: number;
  windowSeconds: number;
  log: Logger;
}

/** Who is counted: the customer, else the client address. */
export const rateKey = (customerId: string | undefined, clientAddress: string | undefined) =>
  customerId ? `customer:${customerId}` : `address:${clientAddress ?? "unknown"}`;

/**
 * Fixed-window counters in Redis (rate-limiter-flexible), shared by every router replica
 * so a client cannot multiply its allowance by the replica count: requests per customer
 * (per client address when anonymous) and, on top, mutations per customer. While Redis
 * is unreachable each replica falls back to its own in-memory counters (the limit then
 * holds per replica) rather than failing or waving traffic through.
 *
 * Cost per request: requests are counted in Redis in leases (see {@link leasedConsumer}),
 * so a busy client costs one Redis round trip per few requests, not one per request; a
 * client over its limit is refused from memory until its window ends (no Redis call).
 */
export function createRateLimits(options: RateLimitOptions) {
  const redis = connectRedis(options.redisUrl, options.log.child({ component: "rate-limits" }));
  const limiter = (name: string, points: number) => new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true,
    keyPrefix: `${options.prefix}:rate:${name}`,
    points,
    duration: options.windowSeconds,
    // Over the limit, a key stays refused until its window ends: remembered here, not asked of Redis again.
    inMemoryBlockOnConsumed: points + 1,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: options.windowSeconds }),
  });
  const requests = leasedConsumer(limiter("requests", options.requestsPerWindow), options.requestsPerWindow);
  const mutations = leasedConsumer(limiter("mutations", options.mutationsPerWindow), options.mutationsPerWindow);

  async function consume(which: (key: string) => Promise<void>, what: string, key: string): Promise<void> {
    try {
      await which(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new GraphQLError(`too many ${what}; retry after ${retryAfter} s`, {
        extensions: {
          code: RATE_LIMITED,
          retryAfter,
          http: { status: 429, headers: new Map([["retry-after", String(retryAfter)]]) },
        },
      });
    }
  }

  return {
    /**
     * Counts one request of `key`.
     * @throws RATE_LIMITED (HTTP 429, Retry-After in seconds) over RATE_LIMIT_REQUESTS per window.
     */
    consumeRequest: (key: string) => consume(requests, "requests", key),
    /** Apollo plugin counting mutations once the operation is known (RATE_LIMIT_MUTATIONS per window). */
    mutationPlugin(): ApolloServerPlugin<RouterContext> {
      return {
        async requestDidStart() {
          return {
            async didResolveOperation({ operation, contextValue }) {
              if (operation?.operation !== "mutation" || !contextValue.rateKey) return;
              await consume(mutations, "mutations", contextValue.rateKey);
            },
          };
        },
      };
    },
    close: () => closeRedis(redis),
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;

/** Points taken from the shared counter at once: 1% of the limit, between 1 and 10. */
export const leaseSize = (points: number) => Math.max(1, Math.min(10, Math.floor(points / 100)));

/**
 * Counts one point of `key` per call, taking points from the shared (Redis) counter
 * {@link leaseSize} at a time and spending them locally until they run out or the window
 * ends (concurrent calls of one key share one refill). Every point spent was counted in
 * Redis within the limit, so across all replicas a key never gets more than `points` per
 * window; a lease's unspent points lapse with the window (the limit is then stricter by at
 * most lease - 1 per replica, e.g. 5 of 600). A lease straddling the limit grants the part
 * still under it.
 * @returns a function that resolves, or rejects with the limiter's RateLimiterRes when refused.
 */
export function leasedConsumer(limiter: RateLimiterRedis, points: number): (key: string) => Promise<void> {
  const lease = leaseSize(points);
  if (lease === 1) return async (key) => { await limiter.consume(key); };
  // Keys with points in hand; forgetting one (LRU) only lets its points lapse.
  const leases = new LRUCache<string, { left: number; until: number }>({ max: 10_000 });
  const refills = new Map<string, Promise<void>>();
  const take = (key: string) => {
    const held = leases.get(key);
    if (!held || held.left <= 0 || Date.now() >= held.until) return false;
    held.left--;
    return true;
  };
  async function refill(key: string): Promise<void> {
    try {
      const res = await limiter.consume(key, lease);
      leases.set(key, { left: lease, until: Date.now() + res.msBeforeNext });
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // Refused from memory (key blocked, consumedPoints 0) or with this lease wholly over the limit.
      const granted = rejection.consumedPoints >= lease ? Math.min(lease, points - (rejection.consumedPoints - lease)) : 0;
      if (granted <= 0) throw rejection;
      leases.set(key, { left: granted, until: Date.now() + rejection.msBeforeNext });
    }
  }
  return async (key) => {
    while (!take(key)) {
      let pending = refills.get(key);
      if (!pending) {
        pending = refill(key).finally(() => refills.delete(key));
        refills.set(key, pending);
      }
      await pending;
    }
  };
}
