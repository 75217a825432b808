import { describe, expect, it } from "vitest";
import { formatServiceLine } from "../src/log-format.ts";
import { resolveRedis } from "../src/redis-server.ts";

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
});
