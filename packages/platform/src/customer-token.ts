import { jwtVerify, SignJWT } from "jose";

/** Local-only default for `JWT_SECRET` (documented in README.md); never use it in production. */
export const LOCAL_JWT_SECRET = "local-dev-jwt-secret-change-me";

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * Signs a customer bearer token (HS256, `sub` = customer id), as an identity
 * provider would. Used by `npm run token` and by tests.
 */
export async function signCustomerToken(secret: string, customerId: string, expiresIn = "12h"): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(customerId)
    .setIssuedAt().setExpirationTime(expiresIn).sign(keyOf(secret));
}

/**
 * Verifies a customer bearer token and returns its `sub` (the customer id).
 * @throws Error with a human-readable reason when the token is invalid, expired or has no `sub`.
 */
export async function verifyCustomerToken(secret: string, token: string): Promise<string> {
  const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: ["HS256"] });
  if (!payload.sub) throw new Error("token has no sub claim");
  return payload.sub;
}

/** Extracts the token from an `Authorization: Bearer <token>` value; undefined when absent or malformed. */
export function bearerToken(header: string | undefined | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
