import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "../src/config.ts";
import { redisEndpoint } from "../src/redis.ts";
import { subgraphEnvSchema } from "../src/subgraph-env.ts";

const schema = subgraphEnvSchema("payment", 4002);

describe("Redis configuration (REDIS_URL, QUEUE_PREFIX)", () => {
  it("defaults to a hash-tagged queue prefix, so the same keys work on one server and on a cluster", () => {
    expect(parseEnv(schema, {}).QUEUE_PREFIX).toBe("{rentcar}");
  });

  it("accepts redis+cluster:// with a hash-tagged prefix", () => {
    const env = parseEnv(schema, { REDIS_URL: "rediss+cluster://app:s3cret@redis.example.com:6380", QUEUE_PREFIX: "{rentcar}" });
    expect(redisEndpoint(env.REDIS_URL)).toEqual({
      cluster: true, url: "rediss://app:s3cret@redis.example.com:6380", host: "redis.example.com", port: 6380, username: "app", password: "s3cret", tls: true,
    });
  });

  it("refuses an untagged prefix on a cluster (BullMQ's multi-key scripts would fail with CROSSSLOT)", () => {
    expect(() => parseEnv(schema, { REDIS_URL: "redis+cluster://127.0.0.1:7000", QUEUE_PREFIX: "rentcar" })).toThrow(/QUEUE_PREFIX: must be hash-tagged, e\.g\. \{rentcar\}/);
    // One server: either form works.
    expect(parseEnv(schema, { QUEUE_PREFIX: "rentcar" }).QUEUE_PREFIX).toBe("rentcar");
  });

  it("refuses other schemes and malformed prefixes", () => {
    expect(() => parseEnv(schema, { REDIS_URL: "http://127.0.0.1:6379" })).toThrow(ConfigError);
    expect(() => parseEnv(schema, { QUEUE_PREFIX: "{a}{b}" })).toThrow(/QUEUE_PREFIX/);
  });

  it("reads a plain URL as one server", () => {
    expect(redisEndpoint("redis://127.0.0.1:6379")).toEqual({ cluster: false, url: "redis://127.0.0.1:6379", host: "127.0.0.1", port: 6379, tls: false });
  });
});
