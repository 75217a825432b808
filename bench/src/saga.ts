import type { BenchStack, Slot } from "./bench-stack.ts";
import { errorCodeOf } from "./http.ts";

export const RESERVE = "mutation Reserve($input: ReserveCarInput!) { reserveCar(input: $input) { id status } }";
export const PAY = "mutation Pay($input: PayReservationInput!) { payReservation(input: $input) { status } }";
export const CARD = "4242424242424242";

/** Timings of one reserve + pay saga through the router (ms), or the error code that ended it. */
export interface SagaOutcome {
  reservationId?: string;
  reserveMs: number;
  payMs?: number;
  error?: string;
}

/** `reserveCar` then `payReservation` as `customerId`, through the router. */
export async function reserveAndPay(stack: BenchStack, customerId: string, slot: Slot = stack.nextSlot(), timeoutMs = 10_000): Promise<SagaOutcome> {
  const auth = await stack.auth(customerId);
  const t0 = performance.now();
  const reserved = await stack.router.post<{ reserveCar: { id: string; status: string } }>(RESERVE, { input: slot }, auth, timeoutMs);
  const reserveMs = performance.now() - t0;
  const reserveError = errorCodeOf(reserved);
  if (reserveError) return { reserveMs, error: `reserveCar ${reserveError}` };
  const reservationId = reserved.data!.reserveCar.id;
  const t1 = performance.now();
  const paid = await stack.router.post(PAY, { input: { reservationId, cardNumber: CARD } }, auth, timeoutMs);
  const payMs = performance.now() - t1;
  const payError = errorCodeOf(paid);
  return { reservationId, reserveMs, payMs, ...(payError ? { error: `payReservation ${payError}` } : {}) };
}
