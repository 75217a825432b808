import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { bearerToken, signCustomerToken, verifyCustomerToken } from "../src/customer-token.ts";
import { signInternalToken, verifyInternalToken } from "../src/internal-auth.ts";

const SECRET = "a-test-secret-of-enough-length";

describe("customer tokens (HS256, sub = customer id)", () => {
  it("round-trips the customer id", async () => {
    expect(await verifyCustomerToken(SECRET, await signCustomerToken(SECRET, "alice"))).toBe("alice");
  });

  it("rejects a wrong secret, an expired token, a missing sub and another algorithm", async () => {
    await expect(verifyCustomerToken(SECRET, await signCustomerToken("another-secret-0123456789", "alice"))).rejects.toThrow(/signature/);
    await expect(verifyCustomerToken(SECRET, await signCustomerToken(SECRET, "alice", "-1s"))).rejects.toThrow(/exp/);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
    await expect(verifyCustomerToken(SECRET, noSub)).rejects.toThrow(/sub/);
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: "HS512" }).setSubject("alice").sign(new TextEncoder().encode(SECRET));
    await expect(verifyCustomerToken(SECRET, hs512)).rejects.toThrow();
  });

  it("parses only well-formed Bearer headers", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("internal tokens", () => {
  it("carry issuer and customer, and fail closed on a forged or missing token", async () => {
    const token = await signInternalToken(SECRET, { issuer: "router", customerId: "alice" });
    expect(await verifyInternalToken(SECRET, token)).toEqual({ issuer: "router", customerId: "alice" });
    expect(await verifyInternalToken("a-different-secret-0123456789", token)).toBeUndefined();
    expect(await verifyInternalToken(SECRET, undefined)).toBeUndefined();
    const customerToken = await signCustomerToken(SECRET, "alice");
    expect(await verifyInternalToken(SECRET, customerToken)).toBeUndefined();
  });
});
