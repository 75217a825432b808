import { jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { hmacKey } from "./hmac-key.ts";

/** Header carrying the internal token on every call into a subgraph. */
export const INTERNAL_TOKEN_HEADER = "x-internal-token";
const AUDIENCE = "rentcar-subgraphs";
/** Lifetime of an internal token, in seconds. */
const TOKEN_TTL_SECONDS = 60;
/**
 * How long a signed token is handed out again, in ms: half its life, so a receiver always
 * gets at least 30 s of validity (clock differences between hosts stay far below that).
 */
const SIGNED_REUSE_MS = 30_000;
/** Signed tokens (per secret: issuer x customer) and verified tokens (per secret) kept at most. */
const MAX_CACHED_TOKENS = 10_000;

/** Who made a subgraph call, as proven by the internal token. */
export interface InternalCaller {
  /** `router`, or the name of the calling service (or tool) for service-to-service calls. */
  issuer: string;
  /** Customer id on whose behalf the call is made; absent for anonymous calls. */
  customerId?: string;
}

interface SignedToken {
  token: Promise<string>;
  /** `iat` of the token, in ms (whole seconds). */
  issuedAtMs: number;
}
interface VerifiedToken {
  caller: InternalCaller;
  /** `exp` of the token, in seconds. */
  exp: number;
}
/** Per-secret caches; a process uses one secret (tests a few), bounded anyway. */
interface SecretCaches {
  signed: LRUCache<string, SignedToken>;
  verified: LRUCache<string, VerifiedToken>;
}
const caches = new Map<string, SecretCaches>();

function cachesOf(secret: string): SecretCaches {
  let c = caches.get(secret);
  if (!c) {
    if (caches.size >= 16) caches.delete(caches.keys().next().value!);
    c = { signed: new LRUCache({ max: MAX_CACHED_TOKENS }), verified: new LRUCache({ max: MAX_CACHED_TOKENS }) };
    caches.set(secret, c);
  }
  return c;
}

/**
 * A short-lived (60 s) HS256 token signed with `INTERNAL_SECRET`. Subgraphs accept
 * only calls bearing one, so a customer cannot bypass the router's JWT check.
 * The token of one (issuer, customer) is signed once and handed out again for 30 s
 * (bounded LRU of 10,000 per secret), so a token received always has >= 30 s left and
 * signing costs nothing per call.
 */
export async function signInternalToken(secret: string, caller: InternalCaller): Promise<string> {
  const { signed } = cachesOf(secret);
  const key = `${caller.issuer}\u0000${caller.customerId ?? ""}`;
  const now = Date.now();
  const cached = signed.get(key);
  if (cached && now >= cached.issuedAtMs && now - cached.issuedAtMs < SIGNED_REUSE_MS) return cached.token;
  const iat = Math.floor(now / 1000);
  const jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuer(caller.issuer)
    .setAudience(AUDIENCE).setIssuedAt(iat).setExpirationTime(iat + TOKEN_TTL_SECONDS);
  if (caller.customerId) jwt.setSubject(caller.customerId);
  const token = hmacKey(secret).then((k) => jwt.sign(k));
  signed.set(key, { token, issuedAtMs: iat * 1000 });
  // A failed signing is not kept (and is the caller's error, as before).
  token.catch(() => { if (signed.get(key)?.token === token) signed.delete(key); });
  return token;
}

/**
 * Verifies an internal token. A token verified once is remembered (bounded LRU of
 * 10,000 per secret, keyed by the whole token, signature included) until its `exp`, so
 * the same token arriving again costs a lookup; a forged, expired or unknown token is
 * never remembered and is checked in full every time.
 * @returns the caller, or `undefined` when the token is missing, expired or forged.
 */
export async function verifyInternalToken(secret: string, token: string | undefined): Promise<InternalCaller | undefined> {
  if (!token) return undefined;
  const { verified } = cachesOf(secret);
  const cached = verified.get(token);
  if (cached) {
    // jose's rule: expired when exp <= now (whole seconds), no tolerance for internal tokens.
    if (cached.exp > Math.floor(Date.now() / 1000)) return cached.caller;
    verified.delete(token);
    return undefined;
  }
  try {
    const { payload } = await jwtVerify(token, await hmacKey(secret), { audience: AUDIENCE, algorithms: ["HS256"], requiredClaims: ["exp"] });
    if (!payload.iss || typeof payload.exp !== "number") return undefined;
    const caller: InternalCaller = Object.freeze(payload.sub ? { issuer: payload.iss, customerId: payload.sub } : { issuer: payload.iss });
    verified.set(token, { caller, exp: payload.exp });
    return caller;
  } catch {
    return undefined;
  }
}

/**
 * What one issuer may call on a subgraph: {@link PUBLIC_API} (every root field the
 * subgraph does not mark `@inaccessible`, plus the federation fields `_entities` and
 * `_service` the router plans with), or an explicit list of root field names.
 */
export type InternalAccess = typeof PUBLIC_API | readonly string[];

/** Issuers of internal tokens: the router and each service or tool that calls a subgraph directly. */
export const ISSUER = {
  router: "router",
  reservation: "reservation",
  rental: "rental",
  /** `npm run projection:rebuild`: reads payment and rental statuses through `_entities`. */
  projectionRebuild: "projection-rebuild",
} as const;

/** The router's access: the public API, on behalf of the customer its token names. */
export const PUBLIC_API = "public-api";

/**
 * Per-subgraph allow-list: issuer -> what it may call. An issuer that is not listed is
 * refused even with a valid token, so a leaked or reused INTERNAL_SECRET token cannot
 * reach internal operations unless its issuer is named for them (README "Security model").
 */
export type InternalAccessPolicy = Readonly<Record<string, InternalAccess>>;

/** The default policy of a subgraph: only the router, only the public API. */
export const ROUTER_ONLY: InternalAccessPolicy = { [ISSUER.router]: PUBLIC_API };

/**
 * Whether `issuer` may call every root field in `fields` on a subgraph whose
 * `@inaccessible` (internal) root fields are `internalFields`.
 * @returns the first field it may not call, or undefined when all are allowed.
 */
export function firstForbiddenField(
  policy: InternalAccessPolicy,
  issuer: string,
  fields: Iterable<string>,
  internalFields: ReadonlySet<string>,
): string | undefined {
  const access = Object.hasOwn(policy, issuer) ? policy[issuer] : undefined;
  for (const field of fields) {
    if (field === "__typename") continue;
    if (!access) return field;
    const allowed = access === PUBLIC_API ? !internalFields.has(field) : access.includes(field);
    if (!allowed) return field;
  }
  return undefined;
}
