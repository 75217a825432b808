import { createLogger, signCustomerToken } from "@rentcar/platform";
import { describe, expect, it } from "vitest";
import { routerContext } from "../src/context.ts";

const SECRET = "router-test-secret-0123456789";
const log = createLogger("router", "silent");

describe("router authentication", () => {
  it("takes the customer id from a valid bearer token", async () => {
    const token = await signCustomerToken(SECRET, "alice");
    const ctx = await routerContext(SECRET, log, { authorization: `Bearer ${token}`, requestId: "r-1" });
    expect(ctx).toMatchObject({ customerId: "alice", requestId: "r-1" });
  });

  it("treats a request without Authorization as anonymous", async () => {
    const ctx = await routerContext(SECRET, log, {});
    expect(ctx.customerId).toBeUndefined();
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ["garbage", "Bearer not-a-jwt"],
    ["wrong scheme", "Basic YWxpY2U6cHc="],
  ])("rejects %s with UNAUTHENTICATED / 401", async (_, authorization) => {
    await expect(routerContext(SECRET, log, { authorization })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
    });
  });

  it("rejects a token signed with another secret", async () => {
    const forged = await signCustomerToken("attacker-secret-0123456789", "alice");
    await expect(routerContext(SECRET, log, { authorization: `Bearer ${forged}` })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED" },
    });
  });
});
