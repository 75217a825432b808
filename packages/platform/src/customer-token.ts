import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { LRUCache } from "lru-cache";
import { hmacKey } from "./hmac-key.ts";

/** Local-only default for `JWT_SECRET` (documented in README.md); never use it in production. */
export const LOCAL_JWT_SECRET = "local-dev-jwt-secret-change-me";

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * What a customer token must satisfy beyond its HS256 signature (README "Security model").
 * Defaults: 24 h maximum lifetime, 60 s clock skew, no issuer/audience check.
 */
export interface CustomerTokenPolicy {
  /** Longest allowed lifetime (`exp` - `iat`, or `exp` - now without `iat`), in seconds (JWT_MAX_TTL). */
  maxTtlSeconds: number;
  /** Tolerated clock difference with the token issuer, in seconds. */
  clockSkewSeconds: number;
  /** Required `iss` when set (JWT_ISSUER). */
  issuer?: string | undefined;
  /** Required `aud` when set (JWT_AUDIENCE). */
  audience?: string | undefined;
}

export const DEFAULT_CUSTOMER_TOKEN_POLICY: CustomerTokenPolicy = { maxTtlSeconds: 24 * 3600, clockSkewSeconds: 60 };

/**
 * Shape of a customer id (`sub`): 1-128 characters, letters, digits and `._@:+-`,
 * starting with a letter or digit. Bounded so an id can be stored, indexed and logged
 * safely; no NUL, whitespace or control characters ever reach a database or a log line.
 */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}$/;

/** A customer token was refused; `message` is safe to show to the client. */
export class CustomerTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CustomerTokenError";
  }
}

/**
 * Signs a customer bearer token (HS256, `sub` = customer id, `iat`, `exp`), as an
 * identity provider would. Used by `npm run token` and by tests.
 */
export async function signCustomerToken(secret: string, customerId: string, expiresIn: string | number = "12h"): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(customerId)
    .setIssuedAt().setExpirationTime(expiresIn).sign(keyOf(secret));
}

/** The claims a verified token is remembered by: what {@link checkTimes} and {@link checkClaims} look at again. */
type VerifiedClaims = Pick<JWTPayload, "exp" | "nbf" | "iat" | "sub">;
/** Verified customer tokens kept at most, per secret and policy. */
const MAX_VERIFIED_TOKENS = 10_000;
const verifiedTokens = new Map<string, LRUCache<string, VerifiedClaims>>();

function verifiedCacheOf(secret: string, policy: CustomerTokenPolicy): LRUCache<string, VerifiedClaims> {
  const id = JSON.stringify([secret, policy.maxTtlSeconds, policy.clockSkewSeconds, policy.issuer ?? null, policy.audience ?? null]);
  let cache = verifiedTokens.get(id);
  if (!cache) {
    if (verifiedTokens.size >= 16) verifiedTokens.delete(verifiedTokens.keys().next().value!);
    cache = new LRUCache({ max: MAX_VERIFIED_TOKENS });
    verifiedTokens.set(id, cache);
  }
  return cache;
}

/**
 * Verifies a customer bearer token and returns its `sub` (the customer id).
 * Requires a valid HS256 signature, a numeric `exp` in the future, a lifetime of at
 * most `policy.maxTtlSeconds`, no `iat` or `nbf` beyond the clock skew, a string `sub`
 * matching {@link CUSTOMER_ID_PATTERN}, and `iss`/`aud` when the policy names them.
 * A token that passed is remembered (bounded LRU of 10,000 per secret and policy, keyed
 * by the whole token, signature included), so a client sending the same token again
 * costs a lookup and the time checks (exp, nbf, iat, lifetime), which run on every use;
 * a refused token is never remembered.
 * @throws CustomerTokenError with a client-safe reason for anything else.
 */
export async function verifyCustomerToken(
  secret: string,
  token: string,
  policy: CustomerTokenPolicy = DEFAULT_CUSTOMER_TOKEN_POLICY,
): Promise<string> {
  const cache = verifiedCacheOf(secret, policy);
  const cached = cache.get(token);
  if (cached) {
    const now = Math.floor(Date.now() / 1000);
    try {
      checkTimes(cached, policy, now);
      return checkClaims(cached, policy, now);
    } catch (error) {
      cache.delete(token);
      throw error;
    }
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, await hmacKey(secret), {
      algorithms: ["HS256"],
      clockTolerance: policy.clockSkewSeconds,
      requiredClaims: ["exp"],
      ...(policy.issuer ? { issuer: policy.issuer } : {}),
      ...(policy.audience ? { audience: policy.audience } : {}),
    }));
  } catch (error) {
    throw new CustomerTokenError(reasonOf(error));
  }
  const customerId = checkClaims(payload, policy, Math.floor(Date.now() / 1000));
  cache.set(token, { exp: payload.exp, nbf: payload.nbf, iat: payload.iat, sub: payload.sub });
  return customerId;
}

/** jose's time rules (exp, nbf, with the clock skew), for a token verified earlier; same client-safe reasons. */
function checkTimes(claims: VerifiedClaims, policy: CustomerTokenPolicy, now: number): void {
  if (typeof claims.exp === "number" && claims.exp <= now - policy.clockSkewSeconds) throw new CustomerTokenError("token expired (exp)");
  if (typeof claims.nbf === "number" && claims.nbf > now + policy.clockSkewSeconds) throw new CustomerTokenError("token claim nbf is invalid (check_failed)");
}

function checkClaims(payload: VerifiedClaims, policy: CustomerTokenPolicy, now: number): string {
  const { exp, iat, sub } = payload;
  if (typeof exp !== "number") throw new CustomerTokenError("token has no expiry (exp)");
  if (iat !== undefined && iat > now + policy.clockSkewSeconds) throw new CustomerTokenError("token is issued in the future (iat)");
  if (exp - (iat ?? now) > policy.maxTtlSeconds + policy.clockSkewSeconds) {
    throw new CustomerTokenError(`token lifetime exceeds the maximum of ${policy.maxTtlSeconds} s`);
  }
  if (typeof sub !== "string" || sub.length === 0) throw new CustomerTokenError("token has no sub claim");
  if (!CUSTOMER_ID_PATTERN.test(sub)) throw new CustomerTokenError("token sub is not a valid customer id");
  return sub;
}

/** A short, client-safe reason: jose's messages name claims, never secrets or internals. */
function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "token expired (exp)";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `token claim ${error.claim} is invalid (${error.reason})`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "token signature verification failed";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "token algorithm is not allowed (HS256 only)";
  return "token is malformed";
}

/** Extracts the token from an `Authorization: Bearer <token>` value; undefined when absent or malformed. */
export function bearerToken(header: string | undefined | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}
