import { randomUUID } from "node:crypto";
import { errorCodes } from "@rentcar/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays, startTestStack, type TestStack } from "./support.ts";

// A client retries a mutation whose first attempt died after its commit, with the same
// Idempotency-Key, through the router (README "The saga": idempotent mutations).
let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({ LOG_LEVEL: "warn" });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const RESERVE = `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status carId } }`;

async function reservationsOf(customerId: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: t.databaseUrls.reservation });
  await client.connect();
  try {
    return (await client.query(`SELECT id FROM reservation WHERE customer_id = $1`, [customerId])).rows.map((r) => r.id as string);
  } finally {
    await client.end();
  }
}

describe("Idempotency-Key through the router", () => {
  it("reservation dies between commit and response; the retry with the same key returns that reservation: exactly one exists", async () => {
    const customer = `crash-${randomUUID()}`;
    const key = randomUUID();
    const input = { carId: "car-011", pickupAt: inDays(4), returnAt: inDays(6) };
    // Test-only fault: the process SIGKILLs itself right after reserveCar's transaction commits.
    await t.stack.restart("reservation", { envOverrides: { FAULT_CRASH_AFTER_COMMIT: "reserveCar" } });
    const first = await t.gql(customer, RESERVE, { input }, { "idempotency-key": key });
    expect(first.data?.reserveCar ?? null).toBeNull();
    expect(first.errors?.length).toBeGreaterThan(0);
    const committed = await reservationsOf(customer);
    expect(committed).toHaveLength(1);

    await t.stack.restart("reservation"); // back without the fault
    const retry = await t.gql(customer, RESERVE, { input }, { "idempotency-key": key });
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.reserveCar).toMatchObject({ id: committed[0], carId: "car-011" });
    // Retried again, concurrently: still the same one.
    const again = await Promise.all([1, 2, 3].map(() => t.gql(customer, RESERVE, { input }, { "idempotency-key": key })));
    expect(again.map((r) => r.data?.reserveCar?.id)).toEqual([committed[0], committed[0], committed[0]]);
    expect(await reservationsOf(customer)).toEqual(committed);
    // The crash lost nothing: the payment registration left in the outbox reaches payment.
    const view = `query($id: ID!) { reservation(id: $id) { status payment { status } } }`;
    const settled = await eventually(async () => {
      const v = (await t.gql(customer, view, { id: committed[0] })).data?.reservation;
      return v?.payment?.status === "REQUESTED" && v;
    });
    expect(settled).toMatchObject({ status: "RESERVED", payment: { status: "REQUESTED" } });
    // The same key for another period is a client bug, refused.
    const misuse = await t.gql(customer, RESERVE, { input: { ...input, returnAt: inDays(7) } }, { "idempotency-key": key });
    expect(errorCodes(misuse)).toEqual(["BAD_USER_INPUT"]);
  }, 90_000);
});
