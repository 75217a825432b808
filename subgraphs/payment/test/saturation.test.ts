import { randomUUID } from "node:crypto";
import type { HttpService } from "@rentcar/platform";
import { callSubgraph, createTestDatabase, errorCodes, TEST_INTERNAL_SECRET, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paymentEnvSchema, startPaymentSubgraph } from "../src/index.ts";

let db: TestDatabase;
let service: HttpService;
let url: string;

// One connection and a short transaction start wait: concurrent payments must queue for it.
beforeAll(async () => {
  db = await createTestDatabase("payment");
  service = await startPaymentSubgraph(paymentEnvSchema.parse(testSubgraphEnv(db.url, { DATABASE_POOL_MAX: "1", DATABASE_TX_MAX_WAIT_MS: "20" })));
  url = `${service.url}/graphql`;
});
afterAll(async () => {
  await service?.shutdown("test done");
  await db?.drop();
});

const REGISTER = `mutation($input: RegisterPaymentInput!) { registerPayment(input: $input) { id } }`;
const PAY = `mutation($input: PayReservationInput!) { payReservation(input: $input) { status } }`;
const STATUS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { payment { status } } } }`;
const asAlice = { issuer: "router", customerId: "alice" };

describe("payment subgraph with its database pool exhausted", () => {
  it("answers OVERLOADED (never INTERNAL_SERVER_ERROR) when a transaction cannot get a connection in time, and did nothing for it", async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    for (const reservationId of ids) {
      for (let attempt = 0; ; attempt++) {
        const res = await callSubgraph(url, REGISTER, { input: { reservationId, customerId: "alice", amount: 10_000, carId: "car-001" } }, { issuer: "reservation" }, TEST_INTERNAL_SECRET);
        if (!res.errors) break;
        expect(errorCodes(res)).toEqual(["OVERLOADED"]);
        expect(attempt).toBeLessThan(20);
      }
    }
    // With an Idempotency-Key: payReservation runs in a transaction (without one it is two single statements, no transaction).
    const pay = (reservationId: string) => callSubgraph(url, PAY, { input: { reservationId, cardNumber: "4242424242424242" } }, asAlice, TEST_INTERNAL_SECRET,
      { "Idempotency-Key": `pay-${reservationId}` });
    const answers = await Promise.all(ids.map(pay));
    const codes = answers.map((a) => errorCodes(a)[0] ?? a.data!.payReservation.status);
    // Twenty transactions cannot all get the one connection within 20 ms: some are refused.
    expect(codes.filter((c) => c !== "PAID" && c !== "OVERLOADED")).toEqual([]);
    expect(codes).toContain("OVERLOADED");
    const refused = ids.filter((_, i) => codes[i] === "OVERLOADED");
    for (const [i, answer] of answers.entries()) {
      if (codes[i] === "OVERLOADED") expect(answer.errors![0]!.extensions).toEqual({ code: "OVERLOADED", retryAfterSeconds: 1 });
    }
    // A refused payment was not touched: still REQUESTED, and paying again works.
    for (const reservationId of refused) {
      const entity = await callSubgraph(url, STATUS, { r: [{ __typename: "Reservation", id: reservationId }] }, asAlice, TEST_INTERNAL_SECRET);
      expect(entity.data!._entities[0].payment.status).toBe("REQUESTED");
      let again = await pay(reservationId);
      for (let attempt = 0; errorCodes(again)[0] === "OVERLOADED" && attempt < 20; attempt++) again = await pay(reservationId);
      expect(again.data!.payReservation.status).toBe("PAID");
    }
  }, 60_000);
});
