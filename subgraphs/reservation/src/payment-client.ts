import { INTERNAL_TOKEN_HEADER, signInternalToken } from "@rentcar/platform";

export interface PaymentRegistration {
  reservationId: string;
  customerId: string;
  /** KRW. */
  amount: number;
}

/** The payment subgraph could not register the payment (down, slow, or refused). */
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
  timeoutMs: number;
  internalSecret: string;
}

/**
 * Direct service-to-service client of the payment subgraph (not through the router),
 * authenticated with an internal token issued as `reservation`.
 */
export function createPaymentClient({ url, timeoutMs, internalSecret }: PaymentClientOptions) {
  return {
    /**
     * Registers the REQUESTED payment of a reservation (idempotent on reservationId).
     * @returns the payment id.
     * @throws PaymentRegistrationError on timeout (`timeoutMs`), network failure, non-2xx or a GraphQL error.
     */
    async register(registration: PaymentRegistration, requestId: string): Promise<string> {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-request-id": requestId,
            [INTERNAL_TOKEN_HEADER]: await signInternalToken(internalSecret, { issuer: "reservation" }),
          },
          body: JSON.stringify({ query: REGISTER_PAYMENT, variables: { input: registration } }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason = (error as Error).name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (error as Error).message;
        throw new PaymentRegistrationError(`payment service unreachable: ${reason}`, { cause: error });
      }
      const body = (await response.json().catch(() => ({}))) as {
        data?: { registerPayment?: { id: string } };
        errors?: { message: string }[];
      };
      const paymentId = body.data?.registerPayment?.id;
      if (!response.ok || !paymentId) {
        const reason = body.errors?.map((e) => e.message).join("; ") ?? `HTTP ${response.status}`;
        throw new PaymentRegistrationError(`payment service refused the registration: ${reason}`);
      }
      return paymentId;
    },
  };
}

export type PaymentClient = ReturnType<typeof createPaymentClient>;
