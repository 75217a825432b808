import { INTERNAL_TOKEN_HEADER, signInternalToken, type Logger } from "@rentcar/platform";
import {
  BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll, TaskCancelledError, timeout,
  TimeoutStrategy, wrap,
} from "cockatiel";
import { Gauge, type Registry } from "prom-client";

export interface PaymentRegistration {
  reservationId: string;
  customerId: string;
  /** KRW. */
  amount: number;
  carId: string;
  /** Deadline of the unpaid hold; payment enforces it (README "Unpaid holds expire"). */
  expiresAt: Date;
}

/** The payment subgraph could not register the payment (down, slow, refused, or the breaker is open). */
export class PaymentRegistrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PaymentRegistrationError";
  }
}

const REGISTER_PAYMENT = `mutation RegisterPayment($input: RegisterPaymentInput!) {
  registerPayment(input: $input) { id status }
}`;

export interface PaymentClientOptions {
  url: string;
  /** Per-call timeout in ms (PAYMENT_TIMEOUT_MS). */
  timeoutMs: number;
  /** Consecutive failures that open the breaker (PAYMENT_BREAKER_THRESHOLD). */
  breakerThreshold: number;
  /** How long the breaker stays open before one trial call (half-open), in ms (PAYMENT_BREAKER_HALF_OPEN_MS). */
  halfOpenAfterMs: number;
  internalSecret: string;
  log: Logger;
  registry: Registry;
}

const STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.Open]: 1,
  [CircuitState.HalfOpen]: 2,
  [CircuitState.Isolated]: 3,
};

/**
 * Direct service-to-service client of the payment subgraph (not through the router),
 * authenticated with an internal token issued as `reservation`, guarded by a timeout
 * inside a circuit breaker (cockatiel). While the breaker is open calls fail at once,
 * so reserveCar answers quickly with its PAYMENT_DELAYED fallback. The breaker state is
 * the gauge `payment_circuit_state` (0 closed, 1 open, 2 half-open) and is logged on change.
 */
export function createPaymentClient(options: PaymentClientOptions) {
  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold),
  });
  const policy = wrap(breaker, timeout(options.timeoutMs, TimeoutStrategy.Aggressive));
  const gauge = new Gauge({
    name: "payment_circuit_state",
    help: "Circuit breaker on reservation -> payment calls: 0 closed, 1 open, 2 half-open",
    registers: [options.registry],
  });
  gauge.set(0);
  breaker.onStateChange((state) => {
    gauge.set(STATE_VALUE[state]);
    options.log.warn({ breaker: CircuitState[state] }, `payment circuit breaker ${CircuitState[state].toLowerCase()}`);
  });

  async function call(registration: PaymentRegistration, requestId: string, signal: AbortSignal): Promise<string> {
    const response = await fetch(options.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-request-id": requestId,
        [INTERNAL_TOKEN_HEADER]: await signInternalToken(options.internalSecret, { issuer: "reservation" }),
      },
      body: JSON.stringify({ query: REGISTER_PAYMENT, variables: { input: registration } }),
      signal,
    });
    const body = (await response.json().catch(() => ({}))) as { data?: { registerPayment?: { id: string } }; errors?: { message: string }[] };
    const paymentId = body.data?.registerPayment?.id;
    if (!response.ok || !paymentId) {
      throw new PaymentRegistrationError(`payment service refused the registration: ${body.errors?.map((e) => e.message).join("; ") ?? `HTTP ${response.status}`}`);
    }
    return paymentId;
  }

  return {
    /** Current breaker state, e.g. for tests and logs. */
    get state(): CircuitState {
      return breaker.state;
    },
    /**
     * Registers the REQUESTED payment of a reservation (idempotent on reservationId).
     * @returns the payment id.
     * @throws PaymentRegistrationError on timeout, network failure, refusal, or an open breaker.
     */
    async register(registration: PaymentRegistration, requestId: string): Promise<string> {
      try {
        return await policy.execute(({ signal }) => call(registration, requestId, signal));
      } catch (error) {
        if (error instanceof PaymentRegistrationError) throw error;
        const reason = error instanceof BrokenCircuitError ? "circuit breaker open"
          : error instanceof TaskCancelledError ? `no answer within ${options.timeoutMs} ms`
          : `payment service unreachable: ${(error as Error).message}`;
        throw new PaymentRegistrationError(reason, { cause: error });
      }
    },
  };
}

export type PaymentClient = ReturnType<typeof createPaymentClient>;
