import type { ApolloServerPlugin } from "@apollo/server";
import { ErrorCode, redactInternals } from "@rentcar/platform";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { RouterContext } from "./context.ts";
import { ScalarInputError } from "./scalars.ts";

/**
 * Codes a client may see as they are: the public contract (DESIGN.md §6) plus the
 * request errors of GraphQL itself. Any other code, or none, is an unexpected error.
 */
const CLIENT_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR),
  "BAD_REQUEST", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND", "PERSISTED_QUERY_NOT_SUPPORTED",
  // Codes added to the contract by the rest of the system (business limits, rate limits, overload, resume cursors).
  "LIMIT_EXCEEDED", "RATE_LIMITED", "OVERLOADED", "CURSOR_EXPIRED",
]);

/** Extensions that describe our internals (gateway and Apollo additions); never shown. */
const INTERNAL_EXTENSIONS: ReadonlySet<string> = new Set(["serviceName", "response", "exception", "stacktrace", "http", "originalError"]);

/** The generic answer to anything unexpected; the details are in the logs under the request id. */
export const INTERNAL_MESSAGE = "internal error; quote the requestId when reporting it";

/**
 * The router's one error contract (`formatError`), applied to every error whatever its
 * origin (router, gateway, any subgraph):
 * - a known code keeps it, with the message and primitive extensions redacted of URLs,
 *   hosts, ports, paths, SQLSTATEs and card numbers; `SERVICE_UNAVAILABLE` carries only
 *   `code` and `service`;
 * - a validation error caused by the shared `DateTime` scalar is `BAD_USER_INPUT`, as the
 *   subgraphs would answer;
 * - anything else becomes `INTERNAL_SERVER_ERROR` with a generic message (the request id
 *   is added by {@link errorContractPlugin}, the full error logged there).
 */
export function formatClientError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = clientCode(formatted, error);
  const where = {
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
  };
  if (!code) return { message: INTERNAL_MESSAGE, ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  if (code === ErrorCode.SERVICE_UNAVAILABLE) {
    const service = formatted.extensions?.service;
    return { message: redactInternals(formatted.message), ...where, extensions: { code, ...(typeof service === "string" ? { service } : {}) } };
  }
  return { message: redactInternals(formatted.message), ...where, extensions: { ...safeExtensions(formatted.extensions), code } };
}

function clientCode(formatted: GraphQLFormattedError, error: unknown): string | undefined {
  const code = formatted.extensions?.code;
  if (typeof code !== "string" || !CLIENT_CODES.has(code)) return undefined;
  // graphql-js reports a custom scalar's refusal of a literal as a validation error; the subgraphs call it BAD_USER_INPUT.
  if (code === "GRAPHQL_VALIDATION_FAILED" && refusedByScalar(error)) return ErrorCode.BAD_USER_INPUT;
  return code;
}

/** True when a shared scalar's own refusal ({@link ScalarInputError}) is in the error's cause chain. */
function refusedByScalar(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof ScalarInputError) return true;
    current = (current as { originalError?: unknown }).originalError;
  }
  return false;
}

/** Primitive extensions (field, reservationId, retryAfter, ...) minus internal ones, strings redacted. */
function safeExtensions(extensions: Record<string, unknown> | undefined): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extensions ?? {})) {
    if (INTERNAL_EXTENSIONS.has(key)) continue;
    if (typeof value === "string") safe[key] = redactInternals(value);
    else if (typeof value === "number" || typeof value === "boolean") safe[key] = value;
  }
  return safe;
}

const isMasked = (error: GraphQLError) => {
  const code = error.extensions?.code;
  return typeof code !== "string" || !CLIENT_CODES.has(code);
};

/**
 * Enforces the rest of the contract around execution:
 * - a subscription sent over HTTP is a 400 `BAD_REQUEST` saying where subscriptions are served;
 * - (variables are checked against the API schema, shared `DateTime` rules included, by
 *   the gateway before planning; Apollo answers a refusal as a 400 `BAD_USER_INPUT`, so
 *   they are not coerced a second time here: that was ~2% of the router's CPU);
 * - every unexpected error is logged in full with the request id, which the client gets
 *   in `extensions.requestId` (and every response in the `x-request-id` header).
 */
export function errorContractPlugin(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === "subscription") {
            throw new GraphQLError("subscriptions are served over WebSocket (subprotocol graphql-transport-ws) on this path, not over HTTP", {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
        },
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (isMasked(error)) {
              contextValue.log.error({ err: error.originalError ?? error, operationName, path: error.path, extensions: error.extensions }, `unexpected error: ${error.message}`);
            } else {
              contextValue.log.info({ code: error.extensions.code, operationName, path: error.path }, error.message);
            }
          }
        },
        async willSendResponse({ response, contextValue }) {
          response.http.headers.set("x-request-id", contextValue.requestId);
          if (response.body.kind !== "single") return;
          for (const error of response.body.singleResult.errors ?? []) {
            if (error.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
              (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
            }
          }
        },
      };
    },
  };
}
