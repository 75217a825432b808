import { jwtVerify, SignJWT } from "jose";

/** Header carrying the internal token on every call into a subgraph. */
export const INTERNAL_TOKEN_HEADER = "x-internal-token";
const AUDIENCE = "rentcar-subgraphs";
const TOKEN_TTL = "60s";

/** Who made a subgraph call, as proven by the internal token. */
export interface InternalCaller {
  /** `router`, or the name of the calling service for service-to-service calls. */
  issuer: string;
  /** Customer id on whose behalf the call is made; absent for anonymous calls. */
  customerId?: string;
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * Signs a short-lived (60 s) HS256 token with `INTERNAL_SECRET`. Subgraphs accept
 * only calls bearing one, so a customer cannot bypass the router's JWT check.
 */
export async function signInternalToken(secret: string, caller: InternalCaller): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuer(caller.issuer)
    .setAudience(AUDIENCE).setIssuedAt().setExpirationTime(TOKEN_TTL);
  if (caller.customerId) jwt.setSubject(caller.customerId);
  return jwt.sign(keyOf(secret));
}

/**
 * Verifies an internal token.
 * @returns the caller, or `undefined` when the token is missing, expired or forged.
 */
export async function verifyInternalToken(secret: string, token: string | undefined): Promise<InternalCaller | undefined> {
  if (!token) return undefined;
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { audience: AUDIENCE, algorithms: ["HS256"] });
    if (!payload.iss) return undefined;
    return payload.sub ? { issuer: payload.iss, customerId: payload.sub } : { issuer: payload.iss };
  } catch {
    return undefined;
  }
}
