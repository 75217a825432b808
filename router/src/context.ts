import { randomUUID } from "node:crypto";
import { bearerToken, ErrorCode, verifyCustomerToken } from "@rentcar/platform";
import { GraphQLError } from "graphql";
import type { Logger } from "pino";

/** Per-request router context: who is calling (verified JWT) and the request id. */
export interface RouterContext {
  requestId: string;
  customerId?: string;
  log: Logger;
}

/**
 * Builds the context from the HTTP headers. No `Authorization` header means an
 * anonymous caller (public queries still work); a present but invalid token fails the
 * whole request with UNAUTHENTICATED / 401 rather than silently downgrading it.
 */
export async function routerContext(
  jwtSecret: string,
  log: Logger,
  headers: { authorization?: string | undefined; requestId?: string | undefined },
): Promise<RouterContext> {
  const requestId = headers.requestId ?? randomUUID();
  if (!headers.authorization) return { requestId, log: log.child({ requestId }) };
  const token = bearerToken(headers.authorization);
  try {
    if (!token) throw new Error("Authorization header must be 'Bearer <JWT>'");
    const customerId = await verifyCustomerToken(jwtSecret, token);
    return { requestId, customerId, log: log.child({ requestId, customerId }) };
  } catch (error) {
    throw new GraphQLError(`invalid bearer token: ${(error as Error).message}`, {
      extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
    });
  }
}
