import { randomUUID } from "node:crypto";
import { createIdempotency, createLogger, type HttpService, type RequestContext } from "@rentcar/platform";
import { parseEvent } from "@rentcar/events";
import { callSubgraph, createTestDatabase, errorCodes, TEST_INTERNAL_SECRET, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import { createDatabasePool, createSqlClient } from "@rentcar/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paymentEnvSchema, startPaymentSubgraph } from "../src/index.ts";
import { payReservation } from "../src/payments.ts";

let db: TestDatabase;
let service: HttpService;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase("payment");
  service = await startPaymentSubgraph(paymentEnvSchema.parse(testSubgraphEnv(db.url)));
  url = `${service.url}/graphql`;
});
afterAll(async () => {
  await service?.shutdown("test done");
  await db?.drop();
});

const REGISTER = `mutation($input: RegisterPaymentInput!) { registerPayment(input: $input) { id reservationId amount status } }`;
const PAY = `mutation($input: PayReservationInput!) { payReservation(input: $input) { id status cardLast4 amount paidAt } }`;
const asReservation = { issuer: "reservation" };
const asCustomer = (customerId: string) => ({ issuer: "router", customerId });
const call = (query: string, variables: Record<string, unknown>, caller: { issuer: string; customerId?: string }) =>
  callSubgraph(url, query, variables, caller, TEST_INTERNAL_SECRET);

async function registered(customerId = "alice", amount = 150_000) {
  const reservationId = randomUUID();
  const res = await call(REGISTER, { input: { reservationId, customerId, amount, carId: "car-001" } }, asReservation);
  expect(res.errors).toBeUndefined();
  return { reservationId, payment: res.data!.registerPayment };
}

describe("payment subgraph", () => {
  it("registers a REQUESTED payment idempotently on the reservation id", async () => {
    const { reservationId, payment } = await registered();
    expect(payment).toMatchObject({ reservationId, amount: 150_000, status: "REQUESTED" });
    const again = await call(REGISTER, { input: { reservationId, customerId: "alice", amount: 150_000, carId: "car-001" } }, asReservation);
    expect(again.data!.registerPayment.id).toBe(payment.id);
    const otherTerms = await call(REGISTER, { input: { reservationId, customerId: "alice", amount: 1, carId: "car-001" } }, asReservation);
    expect(errorCodes(otherTerms)).toEqual(["CONFLICT"]);
  });

  it("lets only the reservation service register payments", async () => {
    const res = await call(REGISTER, { input: { reservationId: randomUUID(), customerId: "alice", amount: 1, carId: "car-001" } }, asCustomer("alice"));
    expect(errorCodes(res)).toEqual(["FORBIDDEN"]);
  });

  it("enforces the internal-caller allow-list: reservation may only register, other issuers nothing", async () => {
    const { reservationId } = await registered("alice");
    const ENTITY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { payment { id status } } } }`;
    const r = [{ __typename: "Reservation", id: reservationId }];
    // A sibling issuer used to skip the ownership filter and read any customer's payment.
    for (const issuer of ["rental", "reservation", "batch-job"]) {
      const read = await call(ENTITY, { r }, { issuer, customerId: "mallory" });
      expect(errorCodes(read)).toEqual(["FORBIDDEN"]);
      expect(read.data ?? null).toBeNull();
    }
    const pay = await call(PAY, { input: { reservationId, cardNumber: "4242424242424242" } }, { issuer: "reservation", customerId: "alice" });
    expect(errorCodes(pay)).toEqual(["FORBIDDEN"]);
    const register = await call(REGISTER, { input: { reservationId: randomUUID(), customerId: "alice", amount: 1, carId: "car-001" } }, { issuer: "rental" });
    expect(errorCodes(register)).toEqual(["FORBIDDEN"]);
    const rebuild = await call(ENTITY, { r }, { issuer: "projection-rebuild" });
    expect(rebuild.data!._entities[0].payment.status).toBe("REQUESTED");
  });

  it("pays REQUESTED -> PAID storing only the last 4 card digits; paying again returns the same payment", async () => {
    const { reservationId } = await registered();
    const paid = await call(PAY, { input: { reservationId, cardNumber: "4242 4242 4242 4242" } }, asCustomer("alice"));
    expect(paid.errors).toBeUndefined();
    expect(paid.data!.payReservation).toMatchObject({ status: "PAID", cardLast4: "4242", amount: 150_000 });
    expect(paid.data!.payReservation.paidAt).toMatch(/Z$/);
    const again = await call(PAY, { input: { reservationId, cardNumber: "5555555555554444" } }, asCustomer("alice"));
    expect(again.data!.payReservation).toMatchObject({ id: paid.data!.payReservation.id, status: "PAID", cardLast4: "4242" });
  });

  it("rejects an invalid card with BAD_USER_INPUT and leaves the payment REQUESTED", async () => {
    const { reservationId } = await registered();
    const res = await call(PAY, { input: { reservationId, cardNumber: "4242424242424241" } }, asCustomer("alice"));
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { payment { status cardLast4 } } } }`,
      { r: [{ __typename: "Reservation", id: reservationId }] }, asCustomer("alice"));
    expect(entity.data!._entities[0].payment).toEqual({ status: "REQUESTED", cardLast4: null });
  });

  it("hides another customer's payment: NOT_FOUND on pay, null on Reservation.payment", async () => {
    const { reservationId } = await registered("alice");
    const pay = await call(PAY, { input: { reservationId, cardNumber: "4242424242424242" } }, asCustomer("mallory"));
    expect(errorCodes(pay)).toEqual(["NOT_FOUND"]);
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { payment { id } } } }`,
      { r: [{ __typename: "Reservation", id: reservationId }] }, asCustomer("mallory"));
    expect(entity.data!._entities[0].payment).toBeNull();
  });

  it("requires a signed-in customer to pay and a UUID reservation id", async () => {
    const anonymous = await call(PAY, { input: { reservationId: randomUUID(), cardNumber: "4242424242424242" } }, { issuer: "router" });
    expect(errorCodes(anonymous)).toEqual(["UNAUTHENTICATED"]);
    const badId = await call(PAY, { input: { reservationId: "nope", cardNumber: "4242424242424242" } }, asCustomer("alice"));
    expect(errorCodes(badId)).toEqual(["BAD_USER_INPUT"]);
  });

  it("rejects calls without a valid internal token (only the router and services may call)", async () => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(res.status).toBe(401);
    const forged = await callSubgraph(url, "{ __typename }", {}, { issuer: "router" }, "some-other-secret-abcdefgh");
    expect(errorCodes(forged)).toEqual(["UNAUTHENTICATED"]);
  });

  it("pays in one SQL statement without an Idempotency-Key; its PaymentCompleted carries the paid row's id, amount and car", async () => {
    const { reservationId, payment } = await registered("one-statement", 99_000);
    const statements: string[] = [];
    const pool = createDatabasePool(db.url, { max: 1, onStatement: (sql) => statements.push(sql) });
    try {
      const ctx: RequestContext = { requestId: "test", log: createLogger("payment-test", "silent"), caller: asCustomer("one-statement"), customerId: "one-statement" };
      const paid = await payReservation(createSqlClient(pool), createIdempotency({ secret: TEST_INTERNAL_SECRET }), ctx, "one-statement",
        { reservationId, cardNumber: "4242424242424242" });
      expect(paid).toMatchObject({ id: payment.id, status: "PAID", cardLast4: "4242" });
      expect(statements).toHaveLength(1);
      const { rows } = await pool.query(`SELECT payload FROM outbox_event WHERE type = 'PaymentCompleted' AND reservation_id = $1::uuid`, [reservationId]);
      expect(rows).toHaveLength(1);
      expect(parseEvent(rows[0].payload)).toMatchObject({ ok: true, event: {
        type: "PaymentCompleted", reservationId, customerId: "one-statement", payload: { paymentId: payment.id, amount: 99_000, carId: "car-001" },
      } });
    } finally {
      await pool.end();
    }
  });

  it("pays exactly once under concurrent attempts", async () => {
    const { reservationId } = await registered();
    const results = await Promise.all(Array.from({ length: 10 }, () =>
      call(PAY, { input: { reservationId, cardNumber: "4242424242424242" } }, asCustomer("alice"))));
    const ids = new Set(results.map((r) => r.data?.payReservation?.id));
    expect(results.every((r) => r.data?.payReservation?.status === "PAID")).toBe(true);
    expect(ids.size).toBe(1);
    // One PaymentCompleted, written with the one payment (no transaction: one conditional statement).
    const pool = createDatabasePool(db.url, { max: 1 });
    try {
      const { rows } = await pool.query(`SELECT payload->'payload'->>'paymentId' AS "paymentId" FROM outbox_event WHERE type = 'PaymentCompleted' AND reservation_id = $1::uuid`, [reservationId]);
      expect(rows).toEqual([{ paymentId: [...ids][0] }]);
    } finally {
      await pool.end();
    }
  });

  it("Idempotency-Key: a retried payment returns the first result; the same key with another card is BAD_USER_INPUT", async () => {
    const { reservationId, payment } = await registered("idem-payer");
    const key = randomUUID();
    const pay = (cardNumber: string) => callSubgraph(url, PAY, { input: { reservationId, cardNumber } }, asCustomer("idem-payer"),
      TEST_INTERNAL_SECRET, { "idempotency-key": key });
    const first = await pay("4242 4242 4242 4242");
    expect(first.data!.payReservation).toMatchObject({ id: payment.id, status: "PAID", cardLast4: "4242" });
    // Same card written differently is the same input.
    expect((await pay("4242-4242-4242-4242")).data!.payReservation).toMatchObject({ id: payment.id, status: "PAID" });
    expect(errorCodes(await pay("5555555555554444"))).toEqual(["BAD_USER_INPUT"]);
  });
});
