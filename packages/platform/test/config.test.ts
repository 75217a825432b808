import { describe, expect, it } from "vitest";
import { ConfigError, mutationSafetyEnv, parseEnv, refuseTestOnlySettingsInProduction } from "../src/config.ts";
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

  it("defaults the hold limits and refuses the test-only crash fault in production", () => {
    const schema = subgraphEnvSchema("reservation", 4001).extend(mutationSafetyEnv).superRefine(refuseTestOnlySettingsInProduction);
    expect(parseEnv(schema, {})).toMatchObject({ UNPAID_HOLD_SECONDS: 1800, MAX_UNPAID_HOLDS: 3, HOLD_EXPIRY_SWEEP_MS: 1000, IDEMPOTENCY_KEY_RETENTION_HOURS: 24 });
    expect(parseEnv(schema, { FAULT_CRASH_AFTER_COMMIT: "reserveCar" }).FAULT_CRASH_AFTER_COMMIT).toBe("reserveCar");
    expect(() => parseEnv(schema, { NODE_ENV: "production", FAULT_CRASH_AFTER_COMMIT: "reserveCar" })).toThrow(/FAULT_CRASH_AFTER_COMMIT/);
    expect(() => parseEnv(schema, { IDEMPOTENCY_KEY_RETENTION_HOURS: "1", MAX_UNPAID_HOLDS: "0" })).toThrow(/IDEMPOTENCY_KEY_RETENTION_HOURS[\s\S]*MAX_UNPAID_HOLDS|MAX_UNPAID_HOLDS[\s\S]*IDEMPOTENCY_KEY_RETENTION_HOURS/);
  });
});
