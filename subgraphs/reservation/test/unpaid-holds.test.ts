import { randomUUID } from "node:crypto";
import { FLEET } from "@rentcar/domain";
import { callSubgraph, errorCodes, TEST_INTERNAL_SECRET } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSubgraphPair, type SubgraphPair } from "./pair.ts";

// MAX_UNPAID_HOLDS (README "Unpaid holds expire"); expiry itself is in e2e/test/unpaid-holds.test.ts.
let pair: SubgraphPair;

beforeAll(async () => {
  pair = await startSubgraphPair({ MAX_UNPAID_HOLDS: "3" });
});
afterAll(async () => {
  await pair?.close();
});

const DAY = 86_400_000;
let nextStart = 2;
/** A fresh one-day period, so tests never conflict on a car. */
function period() {
  const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + nextStart++ * DAY;
  return { pickupAt: new Date(start).toISOString(), returnAt: new Date(start + DAY).toISOString() };
}
const reserve = (customerId: string, carId: string) =>
  callSubgraph(`${pair.reservation.url}/graphql`, `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status holdExpiresAt } }`,
    { input: { carId, ...period() } }, { issuer: "router", customerId }, TEST_INTERNAL_SECRET);
const cancel = (customerId: string, id: string) =>
  callSubgraph(`${pair.reservation.url}/graphql`, `mutation($id: ID!) { cancelReservation(reservationId: $id) { status cancellationReason } }`,
    { id }, { issuer: "router", customerId }, TEST_INTERNAL_SECRET);
const pay = (customerId: string, reservationId: string) =>
  callSubgraph(`${pair.payment.url}/graphql`, `mutation($input: PayReservationInput!) { payReservation(input: $input) { status } }`,
    { input: { reservationId, cardNumber: "4242424242424242" } }, { issuer: "router", customerId }, TEST_INTERNAL_SECRET);

async function eventually<T>(probe: () => Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("MAX_UNPAID_HOLDS", () => {
  it("the fourth unpaid hold is LIMIT_EXCEEDED; paying or cancelling one frees a slot", async () => {
    const customer = `holder-${randomUUID()}`;
    const held = [];
    for (const car of FLEET.slice(0, 3)) {
      const res = await reserve(customer, car.id);
      expect(res.errors).toBeUndefined();
      expect(Date.parse(res.data!.reserveCar.holdExpiresAt)).toBeGreaterThan(Date.now());
      held.push(res.data!.reserveCar.id as string);
    }
    const fourth = await reserve(customer, FLEET[3]!.id);
    expect(errorCodes(fourth)).toEqual(["LIMIT_EXCEEDED"]);
    expect(fourth.errors![0]!.extensions).toMatchObject({ limit: 3 });
    // Another customer is not affected.
    expect((await reserve(`other-${randomUUID()}`, FLEET[3]!.id)).errors).toBeUndefined();

    expect((await cancel(customer, held[0]!)).data!.cancelReservation).toEqual({ status: "CANCELLED", cancellationReason: "CUSTOMER" });
    expect((await reserve(customer, FLEET[4]!.id)).errors).toBeUndefined();
    expect(errorCodes(await reserve(customer, FLEET[5]!.id))).toEqual(["LIMIT_EXCEEDED"]);

    // A paid reservation is no hold any more once reservation hears PaymentCompleted.
    expect((await pay(customer, held[1]!)).data!.payReservation.status).toBe("PAID");
    await eventually(async () => (await reserve(customer, FLEET[5]!.id)).errors === undefined, "the paid reservation to stop counting");
  });

  it("is enforced atomically: 10 concurrent reserveCar calls of one customer give exactly 3 holds", async () => {
    const customer = `burst-${randomUUID()}`;
    const results = await Promise.all(FLEET.slice(6, 16).map((car) => reserve(customer, car.id)));
    const codes = results.map((r) => (r.errors ? r.errors[0]!.extensions?.code : "OK"));
    expect(codes.filter((c) => c === "OK")).toHaveLength(3);
    expect(codes.filter((c) => c === "LIMIT_EXCEEDED")).toHaveLength(7);
  });
});
