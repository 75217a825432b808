import {
  createInternalClient, domainError, InternalCallRefused, ISSUER, serviceUnavailable, type ErrorCode, type InternalClientOptions,
} from "@rentcar/platform";

const CLAIM_PICK_UP = `mutation ClaimPickUp($reservationId: ID!) {
  claimPickUp(reservationId: $reservationId) { id pickedUpAt }
}`;

const CUSTOMER_CODES: ReadonlySet<string> = new Set(["CONFLICT", "NOT_FOUND"]);

/** What pickUpCar needs from the reservation subgraph. */
export interface PickUpClaims {
  /**
   * Claims the reservation for pick-up (reservation's internal `claimPickUp`): from then on
   * it cannot be cancelled. Claiming twice is fine.
   * @throws CONFLICT (cancelled, expired, completed) or NOT_FOUND, as reservation answered;
   *   SERVICE_UNAVAILABLE when reservation is down, slow or its breaker is open.
   */
  claim(reservationId: string, customerId: string, requestId: string): Promise<void>;
}

/** Timeout (RESERVATION_TIMEOUT_MS) and breaker settings (RESERVATION_BREAKER_*) of the claim call. */
export type ReservationClientOptions = Omit<InternalClientOptions, "target" | "issuer">;

/**
 * Direct client of the reservation subgraph, issued as `rental` on behalf of the
 * customer, with the shared timeout + circuit breaker (gauge `reservation_circuit_state`).
 * With reservation unreachable the pick-up is refused (SERVICE_UNAVAILABLE): handing over
 * a car whose reservation may be cancelled and refunded at the same moment costs a car.
 */
export function createReservationClient(options: ReservationClientOptions): PickUpClaims {
  const client = createInternalClient({ ...options, target: "reservation", issuer: ISSUER.rental });
  return {
    async claim(reservationId, customerId, requestId) {
      try {
        await client.request(CLAIM_PICK_UP, { reservationId }, { requestId, customerId });
      } catch (error) {
        // The customer's own refusals pass through; anything else (e.g. a secret mismatch) is our fault, not theirs.
        if (error instanceof InternalCallRefused && CUSTOMER_CODES.has(error.code)) throw domainError(error.code as ErrorCode, error.message, { reservationId });
        throw serviceUnavailable(`the car cannot be handed over right now (reservation service: ${(error as Error).message}); please try again shortly`,
          { reservationId });
      }
    },
  };
}
