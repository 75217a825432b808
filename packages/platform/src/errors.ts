import { GraphQLError } from "graphql";

/** Stable `extensions.code` values of the public contract (DESIGN.md §6). */
export const ErrorCode = {
  BAD_USER_INPUT: "BAD_USER_INPUT",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  /**
   * A per-customer limit is reached (e.g. MAX_UNPAID_HOLDS unpaid reservations, open
   * subscriptions: then `extensions.limit` names it and `extensions.max` gives its value).
   */
  LIMIT_EXCEEDED: "LIMIT_EXCEEDED",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** A myReservationChanged cursor older than the change log's retention: re-read myReservations. */
  CURSOR_EXPIRED: "CURSOR_EXPIRED",
  /** Refused before any work because the service is at capacity (HTTP 503 with Retry-After); safe to retry. */
  OVERLOADED: "OVERLOADED",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A GraphQL error with a stable code; `details` land in `extensions` too. */
export function domainError(code: ErrorCode, message: string, details: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...details, code } });
}

export const badUserInput = (message: string, details?: Record<string, unknown>) =>
  domainError(ErrorCode.BAD_USER_INPUT, message, details);
export const unauthenticated = (message = "a valid bearer token is required") =>
  domainError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message: string) => domainError(ErrorCode.FORBIDDEN, message);
export const notFound = (message: string, details?: Record<string, unknown>) =>
  domainError(ErrorCode.NOT_FOUND, message, details);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  domainError(ErrorCode.CONFLICT, message, details);
export const limitExceeded = (message: string, details?: Record<string, unknown>) =>
  domainError(ErrorCode.LIMIT_EXCEEDED, message, details);
export const serviceUnavailable = (message: string, details?: Record<string, unknown>) =>
  domainError(ErrorCode.SERVICE_UNAVAILABLE, message, details);
