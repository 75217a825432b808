import { randomBytes } from "node:crypto";
import { closeRedis, connectRedis, createLogger } from "@rentcar/platform";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leasedConsumer, leaseSize } from "../src/rate-limits.ts";

const log = createLogger("rate-limits-test", "silent");
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `rentcar-router-test-${randomBytes(4).toString("hex")}`;
const redis = connectRedis(REDIS_URL, log);
// Until connected, the limiter would count in memory per replica (its fallback), which is not what is tested here.
beforeAll(async () => { while (!redis.isReady) await new Promise((resolve) => setTimeout(resolve, 20)); });
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.unlink(keys);
  await closeRedis(redis);
});

/** One router replica's request limiter on the shared Redis counter, counting its Redis calls. */
function replica(points: number) {
  const limiter = new RateLimiterRedis({
    storeClient: redis, useRedisPackage: true, keyPrefix: `${prefix}:rate:requests`, points, duration: 60,
    inMemoryBlockOnConsumed: points + 1, insuranceLimiter: new RateLimiterMemory({ points, duration: 60 }),
  });
  const counted = { calls: 0 };
  const consume = limiter.consume.bind(limiter);
  limiter.consume = (key, n, options) => { counted.calls++; return consume(key, n, options); };
  const take = leasedConsumer(limiter, points);
  return {
    counted,
    /** Requests of `key` allowed out of `n` attempts, sequentially. */
    async allowed(key: string, n: number): Promise<number> {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        try {
          await take(key);
          ok++;
        } catch (error) {
          expect(error).toBeInstanceOf(RateLimiterRes);
        }
      }
      return ok;
    },
  };
}

describe("leased request counting (rate limits)", () => {
  it("never lets two replicas together exceed the limit, with a Redis call per lease, not per request", async () => {
    expect(leaseSize(600)).toBe(6);
    expect(leaseSize(60)).toBe(1);
    const a = replica(500);
    const b = replica(500);
    const key = "customer:lease-alice";
    expect(await a.allowed(key, 300)).toBe(300);
    expect(a.counted.calls).toBe(60);
    const fromB = await b.allowed(key, 400);
    const fromA = await a.allowed(key, 100);
    // At most 500 in all; at most lease - 1 = 4 per replica lapse unspent.
    expect(300 + fromB + fromA).toBeLessThanOrEqual(500);
    expect(300 + fromB + fromA).toBeGreaterThanOrEqual(500 - 2 * 4);
    // Refused from memory once over: no Redis call per refused request.
    const callsBefore = b.counted.calls;
    expect(await b.allowed(key, 50)).toBe(0);
    expect(b.counted.calls - callsBefore).toBeLessThanOrEqual(50);
    const other = replica(500);
    expect(await other.allowed("customer:lease-bob", 5)).toBe(5);
  });

  it("shares one refill between concurrent requests of one key", async () => {
    const a = replica(1000);
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => a.allowed("address:lease-10.0.0.1", 1)));
    expect(results.every((r) => r.status === "fulfilled" && r.value === 1)).toBe(true);
    expect(a.counted.calls).toBe(3);
  });
});
