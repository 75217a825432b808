import { randomUUID } from "node:crypto";
import { FLEET } from "@rentcar/domain";
import { pruneIdempotencyKeys } from "@rentcar/platform";
import { callSubgraph, errorCodes, TEST_INTERNAL_SECRET } from "@rentcar/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSubgraphPair, type SubgraphPair } from "./pair.ts";

// Idempotency-Key on reserveCar and cancelReservation (README "The saga": idempotent mutations).
let pair: SubgraphPair;
let url: string;

beforeAll(async () => {
  pair = await startSubgraphPair();
  url = `${pair.reservation.url}/graphql`;
});
afterAll(async () => {
  await pair?.close();
});

const RESERVE = `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id carId pickupAt status } }`;
const CANCEL = `mutation($id: ID!) { cancelReservation(reservationId: $id) { id status } }`;
const call = (query: string, variables: Record<string, unknown>, customerId: string, key?: string) =>
  callSubgraph(url, query, variables, { issuer: "router", customerId }, TEST_INTERNAL_SECRET, key === undefined ? {} : { "idempotency-key": key });

const DAY = 86_400_000;
function period(startDay: number, days: number) {
  const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + startDay * DAY;
  return { pickupAt: new Date(start).toISOString(), returnAt: new Date(start + days * DAY).toISOString() };
}

async function sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: pair.reservationDb.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
const reservationsOf = async (customerId: string) =>
  Number((await sql<{ count: string }>(`SELECT count(*) FROM reservation WHERE customer_id = $1`, [customerId]))[0]!.count);

describe("Idempotency-Key on reserveCar", () => {
  it("a retry with the same key and input returns the first reservation and writes nothing", async () => {
    const customer = `idem-${randomUUID()}`;
    const key = randomUUID();
    const input = { carId: FLEET[1]!.id, ...period(5, 2) };
    const first = await call(RESERVE, { input }, customer, key);
    expect(first.errors).toBeUndefined();
    // The same instants written with another offset are the same input.
    const shifted = { ...input, pickupAt: new Date(input.pickupAt).toISOString().replace("Z", "+00:00") };
    const retry = await call(RESERVE, { input: shifted }, customer, key);
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.reserveCar.id).toBe(first.data!.reserveCar.id);
    expect(await reservationsOf(customer)).toBe(1);
  });

  it("the same key with another input is BAD_USER_INPUT; another customer's identical key is independent", async () => {
    const customer = `idem-${randomUUID()}`;
    const key = randomUUID();
    expect((await call(RESERVE, { input: { carId: FLEET[2]!.id, ...period(5, 2) } }, customer, key)).errors).toBeUndefined();
    const other = await call(RESERVE, { input: { carId: FLEET[2]!.id, ...period(9, 2) } }, customer, key);
    expect(errorCodes(other)).toEqual(["BAD_USER_INPUT"]);
    expect(other.errors![0]!.message).toMatch(/Idempotency-Key/);
    // One key names one mutation: using it to cancel is another request.
    expect(errorCodes(await call(CANCEL, { id: randomUUID() }, customer, key))).toEqual(["BAD_USER_INPUT"]);
    const otherCustomer = `idem-${randomUUID()}`;
    const theirs = await call(RESERVE, { input: { carId: FLEET[2]!.id, ...period(9, 2) } }, otherCustomer, key);
    expect(theirs.errors).toBeUndefined();
    expect(await reservationsOf(customer)).toBe(1);
    expect(await reservationsOf(otherCustomer)).toBe(1);
  });

  it("10 concurrent requests with one key: exactly one executes, all return the same reservation", async () => {
    const customer = `idem-${randomUUID()}`;
    const key = randomUUID();
    const input = { carId: FLEET[6]!.id, ...period(12, 1) };
    const results = await Promise.all(Array.from({ length: 10 }, () => call(RESERVE, { input }, customer, key)));
    expect(results.flatMap((r) => errorCodes(r))).toEqual([]);
    expect(new Set(results.map((r) => r.data!.reserveCar.id)).size).toBe(1);
    expect(await reservationsOf(customer)).toBe(1);
  });

  it("a failed request leaves no key behind: the retry runs again", async () => {
    const customer = `idem-${randomUUID()}`;
    const key = randomUUID();
    const input = { carId: "car-999", ...period(5, 1) };
    expect(errorCodes(await call(RESERVE, { input }, customer, key))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await call(RESERVE, { input }, customer, key))).toEqual(["NOT_FOUND"]);
    expect(await sql(`SELECT 1 FROM idempotency_key WHERE customer_id = $1`, [customer])).toHaveLength(0);
  });

  it("rejects a malformed key with BAD_USER_INPUT without echoing it", async () => {
    const customer = `idem-${randomUUID()}`;
    for (const key of ["x".repeat(256), "with space", "ünïcode"]) {
      const res = await call(RESERVE, { input: { carId: FLEET[0]!.id, ...period(5, 1) } }, customer, key);
      expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors![0]!.message).not.toContain(key);
    }
    expect(await reservationsOf(customer)).toBe(0);
  });
});

describe("Idempotency-Key on cancelReservation", () => {
  it("a retried cancellation returns the cancelled reservation; a reused key for another reservation is refused", async () => {
    const customer = `idem-${randomUUID()}`;
    const made = await call(RESERVE, { input: { carId: FLEET[10]!.id, ...period(7, 1) } }, customer);
    const id = made.data!.reserveCar.id as string;
    const key = randomUUID();
    const first = await call(CANCEL, { id }, customer, key);
    expect(first.data!.cancelReservation).toEqual({ id, status: "CANCELLED" });
    expect((await call(CANCEL, { id }, customer, key)).data!.cancelReservation).toEqual({ id, status: "CANCELLED" });
    const other = await call(RESERVE, { input: { carId: FLEET[10]!.id, ...period(20, 1) } }, customer);
    expect(errorCodes(await call(CANCEL, { id: other.data!.reserveCar.id }, customer, key))).toEqual(["BAD_USER_INPUT"]);
    const cancelledEvents = await sql(`SELECT 1 FROM outbox_event WHERE type = 'ReservationCancelled' AND reservation_id = $1`, [id]);
    expect(cancelledEvents).toHaveLength(1);
  });
});

describe("idempotency key retention", () => {
  it("prunes keys older than the retention and keeps younger ones", async () => {
    const customer = `idem-${randomUUID()}`;
    await sql(`INSERT INTO idempotency_key (customer_id, key, operation, fingerprint, result_id, created_at) VALUES
      ($1, 'old', 'reserveCar', 'f', 'r', now() - interval '25 hours'),
      ($1, 'young', 'reserveCar', 'f', 'r', now() - interval '23 hours')`, [customer]);
    const client = new pg.Client({ connectionString: pair.reservationDb.url });
    await client.connect();
    try {
      const db = {
        $executeRawUnsafe: async (q: string, ...v: unknown[]) => (await client.query(q, v)).rowCount ?? 0,
        $queryRawUnsafe: async <T>(q: string, ...v: unknown[]) => (await client.query(q, v)).rows as T,
      };
      expect(await pruneIdempotencyKeys(db, 24 * 3_600_000, 1)).toBeGreaterThanOrEqual(1);
    } finally {
      await client.end();
    }
    expect((await sql<{ key: string }>(`SELECT key FROM idempotency_key WHERE customer_id = $1`, [customer])).map((r) => r.key)).toEqual(["young"]);
  });
});
