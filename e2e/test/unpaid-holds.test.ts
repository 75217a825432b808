import { randomUUID } from "node:crypto";
import { errorCodes } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays, startTestStack, type TestStack } from "./support.ts";

// Unpaid holds expire (README "The saga"): payment expires the hold at its deadline, reservation
// cancels it (reason EXPIRED) through the normal cancellation step, and the car is free again.
let t: TestStack;
beforeAll(async () => {
  // A patient payment timeout: on a loaded machine reserveCar would otherwise fall back to PAYMENT_DELAYED.
  t = await startTestStack({ UNPAID_HOLD_SECONDS: "3", MAX_UNPAID_HOLDS: "3", PAYMENT_TIMEOUT_MS: "5000", LOG_LEVEL: "warn" });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const RESERVE = `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status holdExpiresAt } }`;
const PAY = `mutation($input: PayReservationInput!) { payReservation(input: $input) { status } }`;
const VIEW = `query($id: ID!) {
  myReservation(reservationId: $id) { status paymentStatus cancellationReason }
  reservation(id: $id) { status cancellationReason payment { status expiresAt } }
}`;
const AVAILABLE = `query($p: DateTime!, $r: DateTime!) { availableCars(pickupAt: $p, returnAt: $r) { id } }`;

describe("unpaid holds expire (UNPAID_HOLD_SECONDS=3)", () => {
  it("an unpaid reservation becomes CANCELLED (EXPIRED) and frees its car, also when reservation was restarted in between; a paid one stays", async () => {
    const customer = `holder-${randomUUID()}`;
    const input = { carId: "car-005", pickupAt: inDays(3), returnAt: inDays(4) };
    const started = Date.now();
    const unpaid = (await t.gql(customer, RESERVE, { input })).data!.reserveCar;
    // PAYMENT_DELAYED (payment registered in the background) expires just the same: the deadline travels with it.
    expect(["RESERVED", "PAYMENT_DELAYED"]).toContain(unpaid.status);
    const paidOne = (await t.gql(customer, RESERVE, { input: { ...input, carId: "car-006" } })).data!.reserveCar;
    await eventually(async () =>
      (await t.gql(customer, PAY, { input: { reservationId: paidOne.id, cardNumber: "4242424242424242" } })).data?.payReservation?.status === "PAID", 10_000);

    await t.stack.restart("reservation", { signal: "SIGKILL" });
    const restarted = Date.now();
    const expired = await eventually(async () => {
      const data = (await t.gql(customer, VIEW, { id: unpaid.id })).data;
      return data?.myReservation?.status === "CANCELLED" && data.reservation?.payment?.status === "CANCELLED" && data;
    }, 10_000);
    console.log(`unpaid hold expired ${Date.now() - started} ms after reserveCar (deadline 3000 ms; reservation restart took ${restarted - started} ms of it)`);
    expect(expired).toMatchObject({
      myReservation: { status: "CANCELLED", paymentStatus: "CANCELLED", cancellationReason: "EXPIRED" },
      reservation: { status: "CANCELLED", cancellationReason: "EXPIRED", payment: { status: "CANCELLED", expiresAt: unpaid.holdExpiresAt } },
    });
    const available = (await t.gql(undefined, AVAILABLE, { p: input.pickupAt, r: input.returnAt })).data!.availableCars.map((c: { id: string }) => c.id);
    expect(available).toContain("car-005");
    expect(available).not.toContain("car-006");
    const late = await t.gql(customer, PAY, { input: { reservationId: unpaid.id, cardNumber: "4242424242424242" } });
    expect(errorCodes(late)).toEqual(["CONFLICT"]);
    expect(late.errors![0]!.extensions).toMatchObject({ reason: "EXPIRED" });
    expect((await t.gql(`other-${randomUUID()}`, RESERVE, { input })).data!.reserveCar.status).toBe("RESERVED");
    // Paid before its deadline: never expired.
    expect((await t.gql(customer, VIEW, { id: paidOne.id })).data).toMatchObject({
      myReservation: { status: expect.stringMatching(/PAID|READY/), cancellationReason: null },
      reservation: { status: "RESERVED", cancellationReason: null, payment: { status: "PAID" } },
    });
  }, 120_000);

  it("the fourth unpaid hold is refused with LIMIT_EXCEEDED", async () => {
    const customer = `greedy-${randomUUID()}`;
    const held = await Promise.all(["car-010", "car-012", "car-013"].map((carId) =>
      t.gql(customer, RESERVE, { input: { carId, pickupAt: inDays(8), returnAt: inDays(9) } })));
    expect(held.map((r) => r.data?.reserveCar?.status)).toEqual(["RESERVED", "RESERVED", "RESERVED"]);
    const fourth = await t.gql(customer, RESERVE, { input: { carId: "car-014", pickupAt: inDays(8), returnAt: inDays(9) } });
    // Holds last 3 s here; only if this very slow machine let them expire first may the fourth pass.
    if (fourth.errors) expect(errorCodes(fourth)).toEqual(["LIMIT_EXCEEDED"]);
    else console.warn("the three holds expired before the fourth reserveCar; the limit is covered by subgraphs/reservation/test/unpaid-holds.test.ts");
  }, 60_000);
});
