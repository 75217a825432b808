import {
  acceptRequestId, bearerToken, CustomerTokenError, ErrorCode, verifyCustomerToken, type CustomerTokenPolicy,
} from "@rentcar/platform";
import { GraphQLError } from "graphql";
import type { Logger } from "pino";
import type { RouterEnv } from "./env.ts";

/** Per-request router context: who is calling (verified JWT) and the request id. */
export interface RouterContext {
  requestId: string;
  customerId?: string;
  log: Logger;
  /** Whose rate-limit counters the request uses (customer, else client address). */
  rateKey?: string;
  /**
   * performance.now() when the router took the request: a subgraph fetch is shared with
   * this request only if it was sent later (subgraph-data-source.ts). Absent: never shared.
   */
  startedAt?: number;
}

/** How the router verifies customer tokens: the secret and the claims policy from the env. */
export interface CustomerAuth {
  secret: string;
  policy: CustomerTokenPolicy;
}

/** The customer-token rules configured by JWT_SECRET, JWT_MAX_TTL, JWT_CLOCK_SKEW_SECONDS, JWT_ISSUER, JWT_AUDIENCE. */
export function customerAuthOf(env: RouterEnv): CustomerAuth {
  return {
    secret: env.JWT_SECRET,
    policy: { maxTtlSeconds: env.JWT_MAX_TTL, clockSkewSeconds: env.JWT_CLOCK_SKEW_SECONDS, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
  };
}

/**
 * Builds the context from the HTTP headers. No `Authorization` header means an
 * anonymous caller (public queries still work); a present but invalid token fails the
 * whole request with UNAUTHENTICATED / 401 rather than silently downgrading it. The
 * request id is the client's `x-request-id` only when well-formed, else a new UUID.
 */
export async function routerContext(
  auth: CustomerAuth,
  log: Logger,
  headers: { authorization?: string | undefined; requestId?: string | undefined },
): Promise<RouterContext> {
  const startedAt = performance.now();
  const requestId = acceptRequestId(headers.requestId);
  if (!headers.authorization) return { requestId, startedAt, log: log.child({ requestId }) };
  const token = bearerToken(headers.authorization);
  try {
    if (!token) throw new CustomerTokenError("Authorization header must be 'Bearer <JWT>'");
    const customerId = await verifyCustomerToken(auth.secret, token, auth.policy);
    return { requestId, customerId, startedAt, log: log.child({ requestId, customerId }) };
  } catch (error) {
    const reason = error instanceof CustomerTokenError ? error.message : "token is malformed";
    log.info({ requestId, reason }, "bearer token refused");
    throw new GraphQLError(`invalid bearer token: ${reason}`, {
      extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
    });
  }
}
