import type { BenchStack } from "./bench-stack.ts";
import { runLoad, waitFor } from "./load.ts";
import { reserveAndPay } from "./saga.ts";

/**
 * Gives `customerId` `count` paid reservations and waits (bounded) until every one has
 * its rental READY in the read model, so nested reads touch all three subgraphs.
 * @returns the reservation ids, newest last.
 */
export async function paidReservations(stack: BenchStack, customerId: string, count: number, signal: AbortSignal): Promise<string[]> {
  const ids: string[] = [];
  const result = await runLoad({
    concurrency: 4,
    durationMs: 120_000,
    maxRequests: count,
    signal,
    async task() {
      const outcome = await reserveAndPay(stack, customerId);
      if (outcome.reservationId && !outcome.error) ids.push(outcome.reservationId);
      return outcome.error;
    },
  });
  if (result.errorCount) throw new Error(`setting up ${count} paid reservations failed: ${JSON.stringify(result.errors)}`);
  const auth = await stack.auth(customerId);
  await waitFor(`${count} rentals of ${customerId} to be READY in the read model`, async () => {
    const reply = await stack.router.post<{ myReservations: { rentalStatus: string | null }[] }>(
      "query Ready($first: Int) { myReservations(first: $first) { rentalStatus } }", { first: Math.min(100, count) }, auth);
    return reply.data?.myReservations.filter((r) => r.rentalStatus === "READY").length === count;
  }, 60_000, signal, 200);
  return ids;
}
