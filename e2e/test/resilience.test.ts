import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrismaAdapter } from "@rentcar/db";
import { queueName } from "@rentcar/events";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "@rentcar/devstack";
import { overallStatus, rebuildProjection, ReservationPrismaClient } from "@rentcar/reservation";
import { signCustomerToken } from "@rentcar/platform";
import { createClient } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { E2E_INTERNAL_SECRET, eventually, inDays, JWT_SECRET, startTestStack, type TestStack } from "./support.ts";

// A Redis of its own (AOF, as production runs it) so this file can restart it.
let redisDir: string;
let redis: RedisServer;
let t: TestStack;
beforeAll(async () => {
  redisDir = mkdtempSync(join(tmpdir(), "rentcar-redis-"));
  redis = await startRedisServer(redisDir);
  t = await startTestStack({ REDIS_URL: redis.url, EVENT_LOCK_MS: "4000", LOG_LEVEL: "warn" }, redis.url);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await redis?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

const CARS = 24;
let slot = 0;
/** Every reservation gets its own car-period, so the run never conflicts with itself. */
function nextPeriod() {
  const i = slot++;
  return { carId: `car-${String(1 + (i % CARS)).padStart(3, "0")}`, pickupAt: inDays(2 + 2 * Math.floor(i / CARS)), returnAt: inDays(3 + 2 * Math.floor(i / CARS)) };
}
async function reserve(customer: string): Promise<string | undefined> {
  const res = await t.gql(customer, `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`, { input: nextPeriod() }).catch(() => undefined);
  return res?.data?.reserveCar?.id;
}
const op = (customer: string, mutation: string, variables: Record<string, unknown>) => t.gql(customer, mutation, variables).catch(() => undefined);
const pay = (c: string, id: string) => op(c, `mutation($i: PayReservationInput!) { payReservation(input: $i) { status } }`, { i: { reservationId: id, cardNumber: "4242424242424242" } });
const step = (c: string, name: string, id: string) => op(c, `mutation($id: ID!) { ${name}(reservationId: $id) { status } }`, { id });

async function rows(database: "reservation" | "payment" | "rental", sql: string): Promise<Record<string, string | null>[]> {
  const client = new pg.Client({ connectionString: t.databaseUrls[database] });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

interface SagaState { id: string; reservation: string; payment: string | null; rental: string | null }

/** Reservation, payment and rental of every reservation, joined by the correlation key. */
async function sagaStates(): Promise<SagaState[]> {
  const [reservations, payments, rentals] = await Promise.all([
    rows("reservation", "SELECT id, status, picked_up_at FROM reservation"),
    rows("payment", "SELECT reservation_id, status FROM payment"),
    rows("rental", "SELECT reservation_id, status FROM rental"),
  ]);
  const payment = new Map(payments.map((p) => [p.reservation_id, p.status]));
  const rental = new Map(rentals.map((r) => [r.reservation_id, r.status]));
  return reservations.map((r) => ({ id: r.id!, reservation: r.status!, payment: payment.get(r.id) ?? null, rental: rental.get(r.id) ?? null }));
}

/** The end states the saga allows; anything else is a disagreement between subgraphs. */
function agrees(s: { reservation: string; payment: string | null; rental: string | null }): boolean {
  switch (s.reservation) {
    case "CANCELLED": return (s.payment === "REFUNDED" || s.payment === "CANCELLED") && s.rental === "CANCELLED";
    case "COMPLETED": return s.payment === "PAID" && s.rental === "RETURNED";
    case "RESERVED": return (s.payment === "REQUESTED" && s.rental === null) || (s.payment === "PAID" && (s.rental === "READY" || s.rental === "PICKED_UP"));
    default: return false; // PAYMENT_DELAYED must not remain
  }
}


interface LiveRow { reservationId: string; version: number; cursor: string }

/**
 * A subscriber as a well-behaved client runs it: whenever its socket closes (router
 * restart: 1001) or the subscription ends with an error, it subscribes again with
 * `after` = the last cursor it received.
 */
async function resumingWatcher(customer: string) {
  const rows: LiveRow[] = [];
  const token = await signCustomerToken(JWT_SECRET, customer);
  let cursor: string | undefined;
  let stopped = false;
  let subscriptions = 0;
  let client: ReturnType<typeof createClient> | undefined;
  const start = () => {
    if (stopped) return;
    subscriptions++;
    const current = createClient({ url: t.stack.routerUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` } });
    client = current;
    let again = false;
    const resume = () => {
      if (again) return;
      again = true;
      void current.dispose();
      setTimeout(start, 300);
    };
    current.subscribe<{ myReservationChanged: LiveRow }>({
      query: `subscription($after: String) { myReservationChanged(after: $after) { reservationId version cursor } }`,
      variables: { after: cursor ?? null },
    }, {
      next: (result) => {
        const row = result.data?.myReservationChanged;
        if (row) { rows.push(row); cursor = row.cursor; }
      },
      error: resume,
      complete: resume,
    });
  };
  start();
  return { rows, subscriptions: () => subscriptions, stop: async () => { stopped = true; await client?.dispose(); } };
}

describe("resilience", () => {
  it("Redis restarted during a run: nothing lost, workers resume on their own", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await reserve("erin");
      if (id) ids.push(id);
      await pay("erin", id!);
      if (i === 4) {
        await redis.stop();
        redis = await startRedisServer(redisDir, redis.port);
      }
    }
    expect(ids).toHaveLength(10);
    await eventually(async () => (await sagaStates()).filter((s) => ids.includes(s.id) && s.rental === "READY").length === 10, 60_000);
  });


  it("live view: Redis (AOF) and the router restarted mid-stream; a resuming subscriber still sees every change exactly once", async () => {
    const watcher = await resumingWatcher("gail");
    await new Promise((resolve) => setTimeout(resolve, 500)); // the first subscription is live
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await reserve("gail");
      if (id) ids.push(id);
      await pay("gail", id!);
      if (i === 1) {
        await redis.stop();
        redis = await startRedisServer(redisDir, redis.port);
      }
      if (i === 3) await t.stack.restart("router");
    }
    expect(ids).toHaveLength(6);
    const committed = async () => new Map((await rows("reservation", "SELECT reservation_id, version, rental_status FROM my_reservation WHERE customer_id = 'gail'"))
      .map((r) => [r.reservation_id!, r as unknown as { version: number; rental_status: string | null }]));
    // Every reservation reaches READY, and the watcher has received each one's last version.
    await eventually(async () => {
      const rowsNow = await committed();
      return ids.every((id) => rowsNow.get(id)?.rental_status === "READY"
        && watcher.rows.some((r) => r.reservationId === id && r.version === Number(rowsNow.get(id)!.version)));
    }, 90_000);
    const final = await committed();
    await watcher.stop();
    for (const id of ids) {
      const versions = watcher.rows.filter((r) => r.reservationId === id).map((r) => r.version);
      expect(versions, `versions of ${id}`).toEqual(Array.from({ length: Number(final.get(id)!.version) }, (_, k) => k + 1));
    }
    expect(watcher.subscriptions()).toBeGreaterThan(1); // it did have to resume
  }, 180_000);

  it("a consumer dies holding a job: the job is handed out again after the lock expires and applied once", async () => {
    await t.stack.restart("rental", { restart: false });
    const id = (await reserve("frank"))!;
    expect((await pay("frank", id))?.data?.payReservation?.status).toBe("PAID");
    // A consumer that takes the PaymentCompleted job and dies before finishing it.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    let taken!: () => void;
    const tookJob = new Promise<void>((resolve) => { taken = resolve; });
    const doomed = new Worker(queueName("rental"), async () => { taken(); await new Promise(() => {}); },
      { connection, prefix: t.queuePrefix, lockDuration: 2_000, stalledInterval: 60_000 });
    await tookJob;
    await doomed.close(true);
    connection.disconnect();
    await t.stack.start("rental");
    await eventually(async () => (await sagaStates()).find((s) => s.id === id)?.rental === "READY", 60_000);
    expect((await rows("rental", `SELECT count(*) AS n FROM rental WHERE reservation_id = '${id}'`))[0]!.n).toBe("1");
  }, 120_000);

  // SIGKILLs land at random points, including while a consumer holds a job (it is
  // handed out again after EVENT_LOCK_MS) and between a commit and its relay.
  it("randomized run: 200 reservations, mixed pay / pick-up / return / cancel, random SIGKILLs; all subgraphs agree", async () => {
    const subgraphs = ["reservation", "payment", "rental"] as const;
    let kills = 0;
    let running = true;
    const killer = (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, 1_500 + Math.random() * 1_500));
        if (!running) break;
        const victim = subgraphs[Math.floor(Math.random() * subgraphs.length)]!;
        await t.stack.restart(victim, { signal: "SIGKILL" });
        kills++;
      }
    })();
    const work = async (n: number) => {
      const customer = `customer-${n % 7}`;
      let id: string | undefined;
      // A reservation refused because a subgraph was just killed is simply tried again.
      for (let tries = 0; !id && tries < 100; tries++) {
        id = await reserve(customer);
        if (!id) await new Promise((r) => setTimeout(r, 200));
      }
      if (!id) throw new Error("reservation not accepted after 100 tries");
      const dice = Math.random();
      if (dice < 0.15) return; // left unpaid
      if (dice < 0.3) { await step(customer, "cancelReservation", id); return; }
      await pay(customer, id);
      if (dice < 0.45) { await step(customer, "cancelReservation", id); return; }
      for (let tries = 0; tries < 20; tries++) {
        if ((await step(customer, "pickUpCar", id))?.data?.pickUpCar) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (dice < 0.75) await step(customer, "returnCar", id);
    };
    const started = Date.now();
    for (let n = 0; n < 200; n += 4) await Promise.all([0, 1, 2, 3].map((k) => work(n + k)));
    running = false;
    await killer;
    const states: SagaState[] = await eventually(async () => {
      const all = await sagaStates();
      return all.every(agrees) ? all : undefined;
    }, 90_000).catch(async (error) => {
      const bad = (await sagaStates()).filter((s) => !agrees(s));
      throw new Error(`${bad.length} reservations disagree: ${JSON.stringify(bad.slice(0, 5))}\n${error}`);
    });
    const tally: Record<string, number> = {};
    for (const s of states) tally[`${s.reservation}/${s.payment}/${s.rental}`] = (tally[`${s.reservation}/${s.payment}/${s.rental}`] ?? 0) + 1;
    console.log(`randomized run: ${states.length} reservations accepted, ${kills} SIGKILLs, ${((Date.now() - started) / 1000).toFixed(0)} s`, tally);
    expect(states.length).toBeGreaterThanOrEqual(200);

    // The read model built incrementally from events equals a rebuild from the owning subgraphs.
    const db = new ReservationPrismaClient({ adapter: createPrismaAdapter(t.databaseUrls.reservation, { max: 2 }) });
    try {
      const sources = { paymentUrl: t.stack.subgraphUrls.payment, rentalUrl: t.stack.subgraphUrls.rental, internalSecret: E2E_INTERNAL_SECRET };
      // Wait (read-only) until the projection has caught up with the last events...
      await eventually(async () => {
        const projected = new Map((await rows("reservation", "SELECT reservation_id, status FROM my_reservation")).map((r) => [r.reservation_id, r.status]));
        return (await sagaStates()).every((s) => projected.get(s.id) === overallStatus(s.reservation as never, s.payment, s.rental));
      }, 30_000);
      // ...then a rebuild from the owning subgraphs finds nothing to change, twice.
      expect(await rebuildProjection(db, sources)).toEqual({ checked: states.length, changed: 0 });
      expect(await rebuildProjection(db, sources)).toEqual({ checked: states.length, changed: 0 });
    } finally {
      await db.$disconnect();
    }
  }, 300_000);
});
