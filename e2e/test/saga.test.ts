import { spawnSync } from "node:child_process";
import { createEvent, deadLetterQueueName, queueName, type DeadLetter } from "@rentcar/events";
import { errorCodes } from "@rentcar/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays, REDIS_URL, startTestStack, type TestStack } from "./support.ts";

let t: TestStack;
let redis: Redis;
beforeAll(async () => {
  t = await startTestStack({ PAYMENT_BREAKER_THRESHOLD: "2", PAYMENT_BREAKER_HALF_OPEN_MS: "1000", PAYMENT_TIMEOUT_MS: "600" });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}, 120_000);
afterAll(async () => {
  redis?.disconnect();
  await t?.close();
});

const VIEW = `query($id: ID!) { reservation(id: $id) { id status pickedUpAt payment { status } rental { status } } }`;
let nextCar = 0;
/** Reserves a fresh car (one car per test, so tests never conflict) for days 3-5. */
async function reserve(customer = "alice") {
  const carId = `car-${String(1 + (nextCar++ % 24)).padStart(3, "0")}`;
  const res = await t.gql(customer, `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status carId paymentNotice } }`,
    { input: { carId, pickupAt: inDays(3), returnAt: inDays(5) } });
  expect(res.errors).toBeUndefined();
  return res.data!.reserveCar as { id: string; status: string; carId: string; paymentNotice: string | null };
}
const pay = (id: string, customer = "alice") =>
  t.gql(customer, `mutation($input: PayReservationInput!) { payReservation(input: $input) { status } }`, { input: { reservationId: id, cardNumber: "4242424242424242" } });
const view = async (id: string, customer = "alice") => (await t.gql(customer, VIEW, { id })).data?.reservation;
const step = (name: "pickUpCar" | "returnCar", id: string, customer = "alice") =>
  t.gql(customer, `mutation($id: ID!) { ${name}(reservationId: $id) { status } }`, { id });
const cancel = (id: string, customer = "alice") =>
  t.gql(customer, `mutation($id: ID!) { cancelReservation(reservationId: $id) { status } }`, { id });

async function count(database: "reservation" | "payment" | "rental", sql: string, params: unknown[] = []): Promise<number> {
  const client = new pg.Client({ connectionString: t.databaseUrls[database] });
  await client.connect();
  try {
    return Number((await client.query(sql, params)).rows[0].count);
  } finally {
    await client.end();
  }
}

describe("reservation saga (real processes, Redis, PostgreSQL)", () => {
  it("reserve -> pay -> rental READY -> pick up -> return -> COMPLETED", async () => {
    const r = await reserve();
    expect((await pay(r.id)).data!.payReservation.status).toBe("PAID");
    await eventually(async () => (await view(r.id))?.rental?.status === "READY");
    expect((await step("pickUpCar", r.id)).data!.pickUpCar.status).toBe("PICKED_UP");
    await eventually(async () => (await view(r.id))?.pickedUpAt);
    expect(errorCodes(await cancel(r.id))).toEqual(["CONFLICT"]);
    expect((await step("returnCar", r.id)).data!.returnCar.status).toBe("RETURNED");
    const done = await eventually(async () => { const v = await view(r.id); return v?.status === "COMPLETED" && v; });
    expect(done).toMatchObject({ status: "COMPLETED", payment: { status: "PAID" }, rental: { status: "RETURNED" } });
  });

  it("refuses pick-up before payment and by another customer", async () => {
    const r = await reserve();
    expect(errorCodes(await step("pickUpCar", r.id))).toEqual(["NOT_FOUND"]);
    await pay(r.id);
    await eventually(async () => (await view(r.id))?.rental?.status === "READY");
    expect(errorCodes(await step("pickUpCar", r.id, "mallory"))).toEqual(["NOT_FOUND"]);
    expect(errorCodes(await step("returnCar", r.id))).toEqual(["CONFLICT"]);
  });

  it("cancel after payment: payment REFUNDED, rental CANCELLED, car free again; cancelling twice is a no-op", async () => {
    const r = await reserve();
    await pay(r.id);
    await eventually(async () => (await view(r.id))?.rental?.status === "READY");
    expect((await cancel(r.id)).data!.cancelReservation.status).toBe("CANCELLED");
    expect((await cancel(r.id)).data!.cancelReservation.status).toBe("CANCELLED");
    const final = await eventually(async () => { const v = await view(r.id); return v?.rental?.status === "CANCELLED" && v; });
    expect(final).toMatchObject({ status: "CANCELLED", payment: { status: "REFUNDED" }, rental: { status: "CANCELLED" } });
    const again = await t.gql("bob", `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { status } }`,
      { input: { carId: r.carId, pickupAt: inDays(3), returnAt: inDays(5) } });
    expect(again.data?.reserveCar.status).toBe("RESERVED");
    expect(await count("payment", "SELECT count(*) FROM outbox_event WHERE type = 'PaymentCancelled' AND reservation_id = $1", [r.id])).toBe(1);
  });

  it("cancel before payment: payment CANCELLED, no active rental, paying afterwards is a CONFLICT", async () => {
    const r = await reserve();
    await cancel(r.id);
    const final = await eventually(async () => { const v = await view(r.id); return v?.payment?.status === "CANCELLED" && v?.rental && v; });
    expect(final).toMatchObject({ status: "CANCELLED", payment: { status: "CANCELLED" }, rental: { status: "CANCELLED" } });
    expect(errorCodes(await pay(r.id))).toEqual(["CONFLICT"]);
  });

  it("applies a duplicated or replayed event once and dead-letters an invalid one with its reason", async () => {
    const r = await reserve();
    await pay(r.id);
    await eventually(async () => (await view(r.id))?.rental?.status === "READY");
    const queue = new Queue(queueName("rental"), { connection: redis, prefix: t.queuePrefix });
    const replay = createEvent("PaymentCompleted", { reservationId: r.id, customerId: "alice" }, { paymentId: crypto.randomUUID(), amount: 1, carId: r.carId });
    await queue.add("PaymentCompleted", replay, { jobId: "dup-1" });
    await queue.add("PaymentCompleted", replay, { jobId: "dup-2" });
    await queue.add("PaymentCompleted", { type: "PaymentCompleted", reservationId: "not-a-uuid" }, { jobId: "invalid-1" });
    for (const jobId of ["dup-1", "dup-2", "invalid-1"]) await eventually(async () => (await queue.getJob(jobId))?.finishedOn);
    expect(await count("rental", "SELECT count(*) FROM rental WHERE reservation_id = $1", [r.id])).toBe(1);
    expect(await count("rental", "SELECT count(*) FROM inbox_event WHERE event_id = $1", [replay.eventId])).toBe(1);
    const dlq = new Queue(deadLetterQueueName("rental"), { connection: redis, prefix: t.queuePrefix });
    const letters = (await dlq.getJobs(["waiting"])).map((j) => j.data as DeadLetter);
    expect(letters.map((l) => l.reason)).toContainEqual(expect.stringMatching(/^invalid event: .*reservationId/));

    // Replaying dead letters with the operator CLI: an already applied event has no second effect.
    await dlq.add("dead-letter", { sourceQueue: queueName("rental"), reason: "test", failedAt: new Date().toISOString(), data: replay } satisfies DeadLetter);
    const cli = spawnSync(process.execPath, ["--import", "tsx", "scripts/queues.ts", "replay-dead-letters", "rental"], {
      cwd: new URL("../../", import.meta.url), env: { ...process.env, REDIS_URL, QUEUE_PREFIX: t.queuePrefix }, encoding: "utf8",
    });
    expect(cli.stdout).toMatch(/replayed 2 dead letter\(s\) onto rental-events/);
    await eventually(async () => (await queue.getJobs(["completed"])).some((j) => j.id?.startsWith(`${replay.eventId}-replay-`)));
    expect(await count("rental", "SELECT count(*) FROM rental WHERE reservation_id = $1", [r.id])).toBe(1);
    // Only the invalid event is back in the dead-letter queue (it is still invalid).
    await eventually(async () => (await dlq.count()) === 1);
    expect(((await dlq.getJobs(["waiting"]))[0]!.data as DeadLetter).reason).toMatch(/^invalid event/);
    await Promise.all([queue.close(), dlq.close()]);
  });
});

describe("fault isolation", () => {
  it("rental down: reserve and pay succeed; the rental appears READY after rental restarts", async () => {
    await t.stack.restart("rental", { restart: false });
    try {
      const r = await reserve();
      expect(r.status).toBe("RESERVED");
      expect((await pay(r.id)).data!.payReservation.status).toBe("PAID");
      await t.stack.start("rental");
      await eventually(async () => (await view(r.id))?.rental?.status === "READY");
    } finally {
      if (t.stack.service("rental").child.exitCode !== null) await t.stack.start("rental");
    }
  });

  it("payment down: PAYMENT_DELAYED (fast once the breaker is open), RESERVED after payment returns", async () => {
    await t.stack.restart("payment", { restart: false });
    const latencies: number[] = [];
    const delayed: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const r = await reserve("carol");
        latencies.push(performance.now() - t0);
        expect(r).toMatchObject({ status: "PAYMENT_DELAYED", paymentNotice: expect.stringMatching(/pay a little later/) });
        delayed.push(r.id);
      }
      // A stopped payment fails fast (connection refused); after 2 failures the breaker is open too.
      expect(Math.max(...latencies)).toBeLessThan(1_000);
      console.log(`PAYMENT_DELAYED latencies (ms): ${latencies.map((l) => l.toFixed(0)).join(", ")}`);
    } finally {
      await t.stack.start("payment");
    }
    for (const id of delayed) {
      const v = await eventually(async () => { const v = await view(id, "carol"); return v?.status === "RESERVED" && v; }, 30_000);
      expect(v.payment).toEqual({ status: "REQUESTED" });
    }
  });

  it("payment frozen (slower than the timeout): the breaker opens and reservations are accepted fast", async () => {
    // Close the breaker first (a previous test may have left it open): wait past half-open, succeed once.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await reserve("dave")).status).toBe("RESERVED");
    const payment = t.stack.service("payment").child;
    payment.kill("SIGSTOP");
    const latencies: number[] = [];
    const delayed: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await reserve("dave");
        latencies.push(performance.now() - t0);
        expect(r.status).toBe("PAYMENT_DELAYED");
        delayed.push(r.id);
      }
    } finally {
      payment.kill("SIGCONT");
    }
    console.log(`frozen payment, reserveCar latencies (ms): ${latencies.map((l) => l.toFixed(0)).join(", ")}`);
    // The first 2 calls wait for the 600 ms timeout; then the open breaker answers at once.
    expect(Math.min(...latencies.slice(0, 2))).toBeGreaterThanOrEqual(590);
    expect(Math.max(...latencies.slice(2))).toBeLessThan(300);
    for (const id of delayed) {
      await eventually(async () => (await view(id, "dave"))?.status === "RESERVED", 30_000);
    }
  });

  it("a subgraph killed after committing, before its relay published: the event is delivered after restart", async () => {
    // A registered payment first: the previous test may have left the breaker open (wait past half-open).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const r = await reserve();
    expect(r.status).toBe("RESERVED");
    // Payment restarted without a reachable Redis: commits succeed, events wait in its outbox.
    await t.stack.restart("payment", { envOverrides: { REDIS_URL: "redis://127.0.0.1:9" }, waitFor: "live" });
    expect((await pay(r.id)).data!.payReservation.status).toBe("PAID");
    expect(await count("payment", "SELECT count(*) FROM outbox_event WHERE type = 'PaymentCompleted' AND published_at IS NULL AND reservation_id = $1", [r.id])).toBe(1);
    await t.stack.restart("payment", { signal: "SIGKILL" });
    await eventually(async () => (await view(r.id))?.rental?.status === "READY");
    expect(await count("rental", "SELECT count(*) FROM rental WHERE reservation_id = $1", [r.id])).toBe(1);
  });
});
