import { jwtVerify, SignJWT } from "jose";

/** Header carrying the internal token on every call into a subgraph. */
export const INTERNAL_TOKEN_HEADER = "x-internal-token";
const AUDIENCE = "rentcar-subgraphs";
const TOKEN_TTL = "60s";

/** Who made a subgraph call, as proven by the internal token. */
export interface InternalCaller {
  /** `router`, or the name of the calling service (or tool) for service-to-service calls. */
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
