import { describe, expect, it } from "vitest";
import { formatServiceLine } from "../src/log-format.ts";
import { resolveRedis } from "../src/redis-server.ts";
import { RestartBackoff } from "../src/restart-backoff.ts";

describe("local stack helpers", () => {
  it("uses REDIS_URL when it answers and refuses one that does not", async () => {
    const local = await resolveRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", "/tmp/unused");
    expect(local.source).toBe("REDIS_URL");
    await expect(resolveRedis("redis://127.0.0.1:9", "/tmp/unused")).rejects.toThrow(/does not answer PING/);
  });

  it("prefixes each service line and makes pino JSON readable", () => {
    const line = formatServiceLine("payment", JSON.stringify({ level: "info", time: "2030-01-01T00:00:00.000Z", service: "payment", msg: "payment paid", reservationId: "r-1" }));
    expect(line.startsWith("[payment    ] ")).toBe(true);
    expect(line).toContain("payment paid");
    expect(line).toContain("r-1");
    expect(formatServiceLine("stack", "plain text")).toBe("[stack      ] plain text");
  });

  it("restarts a crashing service after 1 s, 2 s, 4 s … up to 30 s, and from 1 s again once it stayed up a minute", () => {
    let now = 0;
    const backoff = new RestartBackoff(1_000, 30_000, 60_000, () => now);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => backoff.next("payment"))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoff.next("rental")).toBe(1_000); // per service
    backoff.startedAt("payment");
    now += 59_000;
    expect(backoff.next("payment")).toBe(30_000); // crashed again within a minute
    backoff.startedAt("payment");
    now += 60_000;
    expect(backoff.next("payment")).toBe(1_000);
  });
});
