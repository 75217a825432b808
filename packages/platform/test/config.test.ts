import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "../src/config.ts";
import { subgraphEnvSchema } from "../src/subgraph-env.ts";

describe("env config", () => {
  it("has defaults that work on a fresh machine", () => {
    const env = parseEnv(subgraphEnvSchema("payment", 4002), {});
    expect(env).toMatchObject({ PORT: 4002, REDIS_URL: "redis://127.0.0.1:6379", DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/rentcar_payment" });
  });

  it("lists every problem in one error", () => {
    const parse = () => parseEnv(subgraphEnvSchema("payment", 4002), { PORT: "http", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", INTERNAL_SECRET: "short" });
    expect(parse).toThrow(ConfigError);
    try {
      parse();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(4);
      for (const name of ["PORT", "DATABASE_URL", "LOG_LEVEL", "INTERNAL_SECRET"]) {
        expect((error as Error).message).toContain(name);
      }
    }
  });
});
