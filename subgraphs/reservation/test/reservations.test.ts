import { FLEET } from "@rentcar/domain";
import type { HttpService } from "@rentcar/platform";
import { paymentEnvSchema, startPaymentSubgraph } from "@rentcar/payment";
import { callSubgraph, createTestDatabase, errorCodes, TEST_INTERNAL_SECRET, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reservationEnvSchema, startReservationSubgraph } from "../src/index.ts";

let reservationDb: TestDatabase;
let paymentDb: TestDatabase;
let payment: HttpService;
let reservation: HttpService;
let url: string;

beforeAll(async () => {
  [reservationDb, paymentDb] = await Promise.all([createTestDatabase("reservation"), createTestDatabase("payment")]);
  payment = await startPaymentSubgraph(paymentEnvSchema.parse(testSubgraphEnv(paymentDb.url)));
  reservation = await startReservationSubgraph(reservationEnvSchema.parse(testSubgraphEnv(reservationDb.url, {
    PAYMENT_URL: `${payment.url}/graphql`,
    DATABASE_POOL_MAX: "20",
  })));
  url = `${reservation.url}/graphql`;
});
afterAll(async () => {
  await reservation?.shutdown("test done");
  await payment?.shutdown("test done");
  await Promise.all([reservationDb?.drop(), paymentDb?.drop()]);
});

const RESERVE = `mutation($input: ReserveCarInput!) {
  reserveCar(input: $input) { id customerId carId pickupAt returnAt days amount status }
}`;
const as = (customerId?: string) => (customerId ? { issuer: "router", customerId } : { issuer: "router" });
const call = (query: string, variables: Record<string, unknown>, customerId?: string) =>
  callSubgraph(url, query, variables, as(customerId), TEST_INTERNAL_SECRET);

const DAY = 86_400_000;
/** A period starting `startDay` days from now, `days` long, on a whole-hour boundary. */
function period(startDay: number, days: number) {
  const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + startDay * DAY;
  return { pickupAt: new Date(start).toISOString(), returnAt: new Date(start + days * DAY).toISOString() };
}
const reserve = (carId: string, p: { pickupAt: string; returnAt: string }, customerId = "alice") =>
  call(RESERVE, { input: { carId, ...p } }, customerId);

async function countRows(dbUrl: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    return Number((await client.query(sql)).rows[0].count);
  } finally {
    await client.end();
  }
}

describe("reserveCar", () => {
  it("prices on the server (daily rate x days) and registers a REQUESTED payment under the same reservation id", async () => {
    const car = FLEET[7]!;
    const res = await reserve(car.id, period(2, 3));
    expect(res.errors).toBeUndefined();
    const r = res.data!.reserveCar;
    expect(r).toMatchObject({ carId: car.id, customerId: "alice", days: 3, amount: car.dailyRate * 3, status: "RESERVED" });
    expect(await countRows(paymentDb.url, `SELECT count(*) FROM payment WHERE reservation_id = '${r.id}' AND status = 'REQUESTED' AND amount = ${car.dailyRate * 3}`)).toBe(1);
  });

  it("enforces every period rule: bad periods are BAD_USER_INPUT and write nothing", async () => {
    const before = await countRows(reservationDb.url, "SELECT count(*) FROM reservation");
    const past = new Date(Date.now() - DAY).toISOString();
    const cases = [
      { pickupAt: period(3, 1).returnAt, returnAt: period(3, 1).pickupAt },
      { pickupAt: past, returnAt: period(1, 1).returnAt },
      period(3, 31),
      { pickupAt: "tomorrow", returnAt: period(3, 1).returnAt },
      { pickupAt: "2030-01-02T09:00:00", returnAt: "2030-01-03T09:00:00" },
    ];
    for (const p of cases) {
      const codes = errorCodes(await reserve(FLEET[0]!.id, p));
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(["BAD_USER_INPUT"]));
    }
    expect(await countRows(reservationDb.url, "SELECT count(*) FROM reservation")).toBe(before);
  });

  it("rejects an unknown car with NOT_FOUND and an anonymous caller with UNAUTHENTICATED", async () => {
    expect(errorCodes(await reserve("car-999", period(2, 1)))).toEqual(["NOT_FOUND"]);
    const anonymous = await call(RESERVE, { input: { carId: FLEET[0]!.id, ...period(2, 1) } });
    expect(errorCodes(anonymous)).toEqual(["UNAUTHENTICATED"]);
  });

  it("never double-books: 20 concurrent overlapping reservations of one car give 1 success and 19 CONFLICT", async () => {
    const car = FLEET[3]!;
    const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      reserve(car.id, period(10 + (i % 3) * 0.25, 2), `customer-${i}`)));
    const codes = attempts.map((a) => (a.errors ? a.errors[0]!.extensions?.code : "OK"));
    expect(codes.filter((c) => c === "OK")).toHaveLength(1);
    expect(codes.filter((c) => c === "CONFLICT")).toHaveLength(19);
    expect(await countRows(reservationDb.url, `SELECT count(*) FROM reservation WHERE car_id = '${car.id}'`)).toBe(1);
  });

  it("allows back-to-back periods and other cars for the same period", async () => {
    const car = FLEET[4]!;
    expect((await reserve(car.id, period(20, 2))).errors).toBeUndefined();
    expect((await reserve(car.id, period(22, 2))).errors).toBeUndefined();
    expect(errorCodes(await reserve(car.id, period(21, 2)))).toEqual(["CONFLICT"]);
    expect((await reserve(FLEET[5]!.id, period(21, 2))).errors).toBeUndefined();
  });
});

describe("reservation query (owner only)", () => {
  it("returns the caller's reservation and NOT_FOUND for anyone else, never leaking it", async () => {
    const created = (await reserve(FLEET[8]!.id, period(3, 1), "alice")).data!.reserveCar;
    const q = `query($id: ID!) { reservation(id: $id) { id amount } }`;
    expect((await call(q, { id: created.id }, "alice")).data!.reservation).toEqual({ id: created.id, amount: created.amount });
    const other = await call(q, { id: created.id }, "mallory");
    expect(errorCodes(other)).toEqual(["NOT_FOUND"]);
    expect(JSON.stringify(other)).not.toContain(String(created.amount));
    expect(errorCodes(await call(q, { id: "not-a-uuid" }, "alice"))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await call(q, { id: created.id }))).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("availableCars", () => {
  it("excludes cars with an overlapping active reservation", async () => {
    const car = FLEET[9]!;
    const p = period(40, 2);
    const q = `query($p: DateTime!, $r: DateTime!) { availableCars(pickupAt: $p, returnAt: $r) { id } }`;
    const before = (await call(q, { p: p.pickupAt, r: p.returnAt })).data!.availableCars.map((c: { id: string }) => c.id);
    expect(before).toContain(car.id);
    expect(before).toHaveLength(FLEET.length);
    expect((await reserve(car.id, p)).errors).toBeUndefined();
    const after = (await call(q, { p: p.pickupAt, r: p.returnAt })).data!.availableCars.map((c: { id: string }) => c.id);
    expect(after).not.toContain(car.id);
    expect(after).toHaveLength(FLEET.length - 1);
    expect(errorCodes(await call(q, { p: p.returnAt, r: p.pickupAt }))).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("payment registration failure (fallback)", () => {
  it("accepts the reservation as PAYMENT_DELAYED with a notice and keeps its registration in the outbox", async () => {
    const downDb = await createTestDatabase("reservation");
    const isolated = await startReservationSubgraph(reservationEnvSchema.parse(testSubgraphEnv(downDb.url, {
      PAYMENT_URL: "http://127.0.0.1:9/graphql",
      REDIS_URL: "redis://127.0.0.1:9",
    })));
    try {
      const res = await callSubgraph(`${isolated.url}/graphql`,
        `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status paymentNotice } }`,
        { input: { carId: FLEET[0]!.id, ...period(2, 1) } }, as("alice"), TEST_INTERNAL_SECRET);
      expect(res.errors).toBeUndefined();
      expect(res.data!.reserveCar).toMatchObject({ status: "PAYMENT_DELAYED", paymentNotice: expect.stringMatching(/pay a little later/) });
      expect(await countRows(downDb.url, `SELECT count(*) FROM outbox_event WHERE type = 'PaymentRegistrationRequested' AND published_at IS NULL AND reservation_id = '${res.data!.reserveCar.id}'`)).toBe(1);
      // Released at once (no grace period left): the background registration starts as soon as Redis is back.
      expect(await countRows(downDb.url, `SELECT count(*) FROM outbox_event WHERE type = 'PaymentRegistrationRequested' AND available_at <= now() AND reservation_id = '${res.data!.reserveCar.id}'`)).toBe(1);
    } finally {
      await isolated.shutdown("test done");
      await downDb.drop();
    }
  });
});
