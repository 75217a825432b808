import { createLogger, DEFAULT_CUSTOMER_TOKEN_POLICY, signCustomerToken } from "@rentcar/platform";
import { describe, expect, it } from "vitest";
import { routerContext, type CustomerAuth } from "../src/context.ts";

const SECRET = "router-test-secret-0123456789";
const AUTH: CustomerAuth = { secret: SECRET, policy: DEFAULT_CUSTOMER_TOKEN_POLICY };
const log = createLogger("router", "silent");

describe("router authentication", () => {
  it("takes the customer id from a valid bearer token", async () => {
    const token = await signCustomerToken(SECRET, "alice");
    const ctx = await routerContext(AUTH, log, { authorization: `Bearer ${token}`, requestId: "req-00000001" });
    expect(ctx).toMatchObject({ customerId: "alice", requestId: "req-00000001" });
  });

  it("treats a request without Authorization as anonymous", async () => {
    const ctx = await routerContext(AUTH, log, {});
    expect(ctx.customerId).toBeUndefined();
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ["garbage", "Bearer not-a-jwt"],
    ["wrong scheme", "Basic YWxpY2U6cHc="],
  ])("rejects %s with UNAUTHENTICATED / 401", async (_, authorization) => {
    await expect(routerContext(AUTH, log, { authorization })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
    });
  });

  it("replaces a malformed x-request-id instead of trusting it into the logs", async () => {
    const ctx = await routerContext(AUTH, log, { requestId: 'x"}\n{"level":60,"msg":"forged' });
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("rejects a token signed with another secret", async () => {
    const forged = await signCustomerToken("attacker-secret-0123456789", "alice");
    await expect(routerContext(AUTH, log, { authorization: `Bearer ${forged}` })).rejects.toMatchObject({
      extensions: { code: "UNAUTHENTICATED" },
    });
  });
});
