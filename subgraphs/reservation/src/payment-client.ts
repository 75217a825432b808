import { createInternalClient, InternalCallRefused, ISSUER, type InternalClientOptions } from "@rentcar/platform";

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

/** Timeout (PAYMENT_TIMEOUT_MS) and breaker settings (PAYMENT_BREAKER_THRESHOLD, PAYMENT_BREAKER_HALF_OPEN_MS) of the payment call. */
export type PaymentClientOptions = Omit<InternalClientOptions, "target" | "issuer">;

/**
 * Direct client of the payment subgraph (not through the router), issued as
 * `reservation`, with the shared timeout + circuit breaker of {@link createInternalClient}:
 * while the breaker is open calls fail at once, so reserveCar answers quickly with its
 * PAYMENT_DELAYED fallback. The breaker state is the gauge `payment_circuit_state`.
 */
export function createPaymentClient(options: PaymentClientOptions) {
  const client = createInternalClient({ ...options, target: "payment", issuer: ISSUER.reservation });
  return {
    /** Current breaker state, e.g. for tests and logs. */
    get state() {
      return client.state;
    },
    /**
     * Registers the REQUESTED payment of a reservation (idempotent on reservationId).
     * @returns the payment id.
     * @throws PaymentRegistrationError on timeout, network failure, refusal, or an open breaker.
     */
    async register(registration: PaymentRegistration, requestId: string): Promise<string> {
      try {
        const data = await client.request<{ registerPayment: { id: string } }>(REGISTER_PAYMENT, { input: registration }, { requestId });
        return data.registerPayment.id;
      } catch (error) {
        const reason = error instanceof InternalCallRefused ? `payment service refused the registration: ${error.message}` : (error as Error).message;
        throw new PaymentRegistrationError(reason, { cause: error });
      }
    },
  };
}

export type PaymentClient = ReturnType<typeof createPaymentClient>;
