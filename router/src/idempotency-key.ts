import type { GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { IDEMPOTENCY_KEY_HEADER } from "@rentcar/platform";

/**
 * Copies the client's `Idempotency-Key` header onto a subgraph request of the same operation,
 * so keyed mutations (reserveCar, payReservation, cancelReservation) can replay their first
 * result. Validation is the subgraph's (@rentcar/platform idempotency): one rule, one place.
 */
export function forwardIdempotencyKey(options: GraphQLDataSourceProcessOptions, headers: Record<string, string>): void {
  if (!("incomingRequestContext" in options)) return;
  const key = options.incomingRequestContext.request.http?.headers.get(IDEMPOTENCY_KEY_HEADER);
  if (key) headers[IDEMPOTENCY_KEY_HEADER] = key;
}
