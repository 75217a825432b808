import {
  BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, TaskCancelledError, timeout,
  TimeoutStrategy, wrap,
} from "cockatiel";
import { Gauge, type Registry } from "prom-client";
import { ErrorCode } from "./errors.ts";
import { INTERNAL_TOKEN_HEADER, signInternalToken } from "./internal-auth.ts";
import type { Logger } from "./logger.ts";

/** The called service did not answer usefully: down, slower than the timeout, a 5xx, or its breaker is open. */
export class InternalCallUnavailable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InternalCallUnavailable";
  }
}

/** The called service answered and refused (a GraphQL error with a domain code, e.g. CONFLICT). Not a fault: never opens the breaker. */
export class InternalCallRefused extends Error {
  /** The target's `extensions.code`, e.g. CONFLICT. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "InternalCallRefused";
    this.code = code;
  }
}

export interface InternalClientOptions {
  /** The called service, e.g. `payment`: names the gauge `<target>_circuit_state` and the log lines. */
  target: string;
  /** Its GraphQL URL (a direct service-to-service call, not through the router). */
  url: string;
  /** Issuer of the internal token: the calling service, which the target checks. */
  issuer: string;
  internalSecret: string;
  /** Per-call timeout in ms. */
  timeoutMs: number;
  /** Consecutive failures (unavailability, not refusals) that open the breaker. */
  breakerThreshold: number;
  /** How long the open breaker waits before one trial call (half-open), in ms. */
  halfOpenAfterMs: number;
  log: Logger;
  registry: Registry;
}

const STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 3,
};

/** Codes that mean "the service works and said no" rather than "the service is not working". */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  ErrorCode.BAD_USER_INPUT, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT,
]);

type GraphQLBody<T> = { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };

/**
 * Client for a synchronous call from one service to a sibling subgraph (never through the
 * router), authenticated with an internal token issued as `issuer` (on behalf of a
 * customer when given), guarded by a timeout inside a circuit breaker (cockatiel). While
 * the breaker is open calls fail at once, so callers answer quickly with their fallback.
 * The state is the gauge `<target>_circuit_state` (0 closed, 1 open, 2 half-open) and
 * every change is logged. Refusals (domain errors) pass through and never trip the breaker.
 */
export function createInternalClient(options: InternalClientOptions) {
  const breaker = circuitBreaker(handleWhen((error) => !(error instanceof InternalCallRefused)), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  const policy = wrap(breaker, timeout(options.timeoutMs, TimeoutStrategy.Aggressive));
  const gauge = new Gauge({
    name: `${options.target}_circuit_state`,
    help: `Circuit breaker on calls to ${options.target}: 0 closed, 1 open, 2 half-open`,
    registers: [options.registry],
  });
  gauge.set(0);
  breaker.onStateChange((state) => {
    gauge.set(STATE_VALUE[state]);
    options.log.warn({ breaker: CircuitState[state], target: options.target }, `${options.target} circuit breaker ${CircuitState[state].toLowerCase()}`);
  });

  async function call<T>(query: string, variables: Record<string, unknown>, requestId: string, customerId: string | undefined, signal: AbortSignal): Promise<T> {
    const response = await fetch(options.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-request-id": requestId,
        [INTERNAL_TOKEN_HEADER]: await signInternalToken(options.internalSecret, { issuer: options.issuer, ...(customerId ? { customerId } : {}) }),
      },
      body: JSON.stringify({ query, variables }),
      signal,
    });
    const body = (await response.json().catch(() => ({}))) as GraphQLBody<T>;
    const refusal = body.errors?.find((e) => REFUSAL_CODES.has(e.extensions?.code ?? ""));
    if (refusal) throw new InternalCallRefused(refusal.extensions!.code!, refusal.message);
    if (!response.ok || !body.data || body.errors?.length) {
      throw new InternalCallUnavailable(`${options.target} failed: ${body.errors?.map((e) => e.message).join("; ") ?? `HTTP ${response.status}`}`);
    }
    return body.data;
  }

  return {
    /** Current breaker state, e.g. for tests and logs. */
    get state(): CircuitState {
      return breaker.state;
    },
    /**
     * Runs one GraphQL operation on the target.
     * @returns its `data`.
     * @throws InternalCallRefused when the target answered with a domain error (its code and message);
     *   InternalCallUnavailable on timeout, network failure, a server error, or an open breaker.
     */
    async request<T>(query: string, variables: Record<string, unknown>, context: { requestId: string; customerId?: string }): Promise<T> {
      try {
        return await policy.execute(({ signal }) => call<T>(query, variables, context.requestId, context.customerId, signal));
      } catch (error) {
        if (error instanceof InternalCallRefused || error instanceof InternalCallUnavailable) throw error;
        const reason = error instanceof BrokenCircuitError ? "circuit breaker open"
          : error instanceof TaskCancelledError ? `no answer within ${options.timeoutMs} ms`
          : `${options.target} service unreachable: ${(error as Error).message}`;
        throw new InternalCallUnavailable(reason, { cause: error });
      }
    },
  };
}

export type InternalClient = ReturnType<typeof createInternalClient>;
