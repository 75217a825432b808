import { errorCodes, postGraphQL } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inDays, startTestStack, type TestStack } from "./support.ts";

let t: TestStack;
beforeAll(async () => { t = await startTestStack(); });
afterAll(async () => { await t?.close(); });

const tokens = { alice: "alice", bob: "bob" };
const gql = (query: string, variables: Record<string, unknown> = {}, customer?: string) => t.gql(customer, query, variables);


const RESERVE = `mutation Reserve($input: ReserveCarInput!) {
  reserveCar(input: $input) { id status amount days car { id model dailyRate } payment { status amount } }
}`;

describe("supergraph through the router (real processes)", () => {
  it("lists the fleet without a token", async () => {
    const res = await gql("{ cars { id model plateNumber dailyRate } }");
    expect(res.errors).toBeUndefined();
    expect(res.data!.cars.length).toBeGreaterThanOrEqual(20);
  });

  it("runs reserve -> pay with a JWT, joining fields from all three subgraphs", async () => {
    const reserved = await gql(RESERVE, { input: { carId: "car-002", pickupAt: inDays(3), returnAt: inDays(5) } }, tokens.alice);
    expect(reserved.errors).toBeUndefined();
    const r = reserved.data!.reserveCar;
    expect(r).toMatchObject({ status: "RESERVED", days: 2, car: { id: "car-002" }, payment: { status: "REQUESTED" } });
    expect(r.amount).toBe(r.car.dailyRate * 2);
    expect(r.payment.amount).toBe(r.amount);

    const paid = await gql(`mutation Pay($input: PayReservationInput!) { payReservation(input: $input) { status cardLast4 amount } }`,
      { input: { reservationId: r.id, cardNumber: "4242 4242 4242 4242" } }, tokens.alice);
    expect(paid.errors).toBeUndefined();
    expect(paid.data!.payReservation).toEqual({ status: "PAID", cardLast4: "4242", amount: r.amount });

    const read = await gql(`query($id: ID!) { reservation(id: $id) { id status car { model } payment { status cardLast4 } rental { status } } }`,
      { id: r.id }, tokens.alice);
    expect(read.data!.reservation).toMatchObject({ id: r.id, status: "RESERVED", payment: { status: "PAID", cardLast4: "4242" } });
    expect(read.data!.reservation.car.model).toBe(r.car.model);

    const asBob = await gql(`query($id: ID!) { reservation(id: $id) { id payment { status } } }`, { id: r.id }, tokens.bob);
    expect(errorCodes(asBob)).toEqual(["NOT_FOUND"]);
    expect(asBob.data?.reservation ?? null).toBeNull();
  });

  it("answers a double booking with CONFLICT and bad input with BAD_USER_INPUT through the router", async () => {
    const input = { carId: "car-010", pickupAt: inDays(6), returnAt: inDays(8) };
    expect((await gql(RESERVE, { input }, tokens.alice)).errors).toBeUndefined();
    expect(errorCodes(await gql(RESERVE, { input: { ...input, pickupAt: inDays(7) } }, tokens.bob))).toEqual(["CONFLICT"]);
    expect(errorCodes(await gql(RESERVE, { input: { ...input, returnAt: inDays(5) } }, tokens.bob))).toEqual(["BAD_USER_INPUT"]);
  });

  it("rejects a bad token with UNAUTHENTICATED and a missing one on mutations", async () => {
    const bad = await postGraphQL(t.stack.routerUrl, "{ cars { id } }", {}, { authorization: "Bearer not.a.jwt" });
    expect(bad.status).toBe(401);
    expect(errorCodes(bad)).toEqual(["UNAUTHENTICATED"]);
    const anonymous = await gql(RESERVE, { input: { carId: "car-001", pickupAt: inDays(3), returnAt: inDays(4) } });
    expect(errorCodes(anonymous)).toEqual(["UNAUTHENTICATED"]);
  });

  it("hides the internal registerPayment mutation from the public API", async () => {
    const res = await gql(`mutation { registerPayment(input: { reservationId: "x", customerId: "alice", amount: 1 }) { id } }`, {}, tokens.alice);
    expect(res.errors?.[0]?.message).toMatch(/Cannot query field "registerPayment"/);
  });

  it("serves health and metrics on the router", async () => {
    const base = t.stack.routerUrl.replace(/\/graphql$/, "");
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/graphql_operations_total\{operation="Reserve",type="mutation",outcome="ok",service="router"\} \d+/);
  });

  it("shuts every service down gracefully on SIGTERM with exit code 0, router first", async () => {
    for (const service of [...t.stack.services].reverse()) {
      expect({ service: service.name, exit: await service.stop("SIGTERM") }).toEqual({ service: service.name, exit: 0 });
      expect(service.output()).toContain("shutdown complete");
    }
  });
});
