import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readRunningStack, removeRunningStack, resolveLocalStackConfig, resolveToolConfig, writeRunningStack, type RunningStack } from "../src/local-stack-config.ts";
import { ConfigError } from "../src/config.ts";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "rentcar-config-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const running = (overrides: Partial<RunningStack> = {}): RunningStack => ({
  pid: process.pid,
  startedAt: "2030-01-01T00:00:00.000Z",
  ports: { router: 5100, reservation: 5101, payment: 5102, rental: 5103, dashboard: 5104, postgres: 5105 },
  databaseUrls: {
    reservation: "postgresql://postgres@127.0.0.1:5105/rentcar_reservation",
    payment: "postgresql://postgres@127.0.0.1:5105/rentcar_payment",
    rental: "postgresql://postgres@127.0.0.1:5105/rentcar_rental",
  },
  redisUrl: "redis://127.0.0.1:6390",
  queuePrefix: "mine",
  defaultSecrets: true,
  ...overrides,
});

describe("local stack configuration (one place for npm start and every tool)", () => {
  it("derives every port from PORT, and every database from the embedded server unless given", () => {
    const config = resolveLocalStackConfig({ PORT: "5100", PAYMENT_DATABASE_URL: "postgresql://u@db:5432/pay", DATA_DIR: dataDir });
    expect(config.ports).toEqual({ router: 5100, reservation: 5101, payment: 5102, rental: 5103, dashboard: 5104, postgres: 5105 });
    expect(config.routerWsUrl).toBe("ws://127.0.0.1:5100/graphql");
    expect(config.databaseUrls).toEqual({
      reservation: "postgresql://postgres@127.0.0.1:5105/rentcar_reservation",
      payment: "postgresql://u@db:5432/pay",
      rental: "postgresql://postgres@127.0.0.1:5105/rentcar_rental",
    });
    expect(config.embedded).toEqual(["reservation", "rental"]);
    expect(resolveLocalStackConfig({ DATA_DIR: dataDir }).routerUrl).toBe("http://127.0.0.1:4000/graphql");
  });

  it("lists every invalid variable at once", () => {
    expect(() => resolveLocalStackConfig({ PORT: "x", RENTAL_DATABASE_URL: "mysql://a" })).toThrow(ConfigError);
    try {
      resolveLocalStackConfig({ PORT: "x", RENTAL_DATABASE_URL: "mysql://a" });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split(":")[0])).toEqual(["PORT", "RENTAL_DATABASE_URL"]);
    }
  });

  it("a tool without settings follows the running npm start on the same DATA_DIR; explicit settings win", () => {
    writeRunningStack(dataDir, running());
    const followed = resolveToolConfig({ DATA_DIR: dataDir });
    expect(followed.routerWsUrl).toBe("ws://127.0.0.1:5100/graphql");
    expect(followed.redisUrl).toBe("redis://127.0.0.1:6390");
    expect(followed.queuePrefix).toBe("mine");
    expect(followed.databaseUrls.reservation).toBe("postgresql://postgres@127.0.0.1:5105/rentcar_reservation");
    expect(followed.runningPid).toBe(process.pid);
    expect(resolveToolConfig({ DATA_DIR: dataDir, QUEUE_PREFIX: "other" }).queuePrefix).toBe("other");
    // Another PORT means another stack: nothing is taken from this one.
    const other = resolveToolConfig({ DATA_DIR: dataDir, PORT: "6000" });
    expect(other.routerUrl).toBe("http://127.0.0.1:6000/graphql");
    expect(other.queuePrefix).toBe("{rentcar}");
    removeRunningStack(dataDir);
    expect(readRunningStack(dataDir)).toBeUndefined();
  });

  it("ignores the state file of a stack whose process is gone", () => {
    writeRunningStack(dataDir, running({ pid: 2 ** 22 + 12345 }));
    expect(resolveToolConfig({ DATA_DIR: dataDir }).routerUrl).toBe("http://127.0.0.1:4000/graphql");
  });
});
