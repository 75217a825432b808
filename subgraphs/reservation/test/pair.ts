import type { HttpService } from "@rentcar/platform";
import { paymentEnvSchema, startPaymentSubgraph } from "@rentcar/payment";
import { createTestDatabase, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import { reservationEnvSchema, startReservationSubgraph } from "../src/index.ts";

/** Reservation with a real payment subgraph beside it (in-process, fresh databases, real Redis). */
export interface SubgraphPair {
  reservation: HttpService;
  payment: HttpService;
  reservationDb: TestDatabase;
  paymentDb: TestDatabase;
  /** Stops both services and drops both databases. */
  close(): Promise<void>;
}

/** Starts payment, then reservation pointed at it, with `reservationEnv` added to reservation's test env. */
export async function startSubgraphPair(reservationEnv: Record<string, string> = {}): Promise<SubgraphPair> {
  const [reservationDb, paymentDb] = await Promise.all([createTestDatabase("reservation"), createTestDatabase("payment")]);
  const payment = await startPaymentSubgraph(paymentEnvSchema.parse(testSubgraphEnv(paymentDb.url)));
  const reservation = await startReservationSubgraph(reservationEnvSchema.parse(testSubgraphEnv(reservationDb.url, {
    PAYMENT_URL: `${payment.url}/graphql`,
    DATABASE_POOL_MAX: "20",
    ...reservationEnv,
  })));
  return {
    reservation, payment, reservationDb, paymentDb,
    async close() {
      await reservation.shutdown("test done");
      await payment.shutdown("test done");
      await Promise.all([reservationDb.drop(), paymentDb.drop()]);
    },
  };
}
