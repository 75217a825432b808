import type { ApolloServerPlugin } from "@apollo/server";
import { connectRedis, closeRedis, type Logger } from "@rentcar/platform";
import { GraphQLError } from "graphql";
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
 */
export function createRateLimits(options: RateLimitOptions) {
  const redis = connectRedis(options.redisUrl, options.log.child({ component: "rate-limits" }));
  const limiter = (name: string, points: number) => new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true,
    keyPrefix: `${options.prefix}:rate:${name}`,
    points,
    duration: options.windowSeconds,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: options.windowSeconds }),
  });
  const requests = limiter("requests", options.requestsPerWindow);
  const mutations = limiter("mutations", options.mutationsPerWindow);

  async function consume(which: RateLimiterRedis, what: string, key: string): Promise<void> {
    try {
      await which.consume(key);
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
