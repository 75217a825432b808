import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@rentcar/testkit";
import { createLogger } from "@rentcar/platform";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvent, type DomainEvent } from "../src/contracts.ts";
import { appendToOutbox, outboxInsertSql, pendingOutboxCount } from "../src/outbox.ts";
import { pruneOutbox, relayOnce, startOutboxRelay } from "../src/outbox-relay.ts";
import type { EventPublisher } from "../src/publisher.ts";
import { pgClient } from "./pg-client.ts";

let database: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createTestDatabase("payment");
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on("error", () => {}); // idle clients are terminated when the test database is dropped
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const event = () => createEvent("PaymentRegistered", { reservationId: randomUUID(), customerId: "alice" }, { paymentId: randomUUID(), amount: 1 });

describe("outbox relay", () => {
  it.each([["in a transaction", {}], ["with claims", { claim: true }]])("keeps events pending while publishing fails and publishes them in order once it works (%s)", async (_mode, options) => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const events = [event(), event(), event()];
    await db.$transaction((tx) => appendToOutbox(tx, ...events));
    const down: EventPublisher = { publish: async () => { throw new Error("Redis down"); }, close: async () => {} };
    await expect(relayOnce(db, down, 100, "saga", options)).rejects.toThrow("Redis down");
    expect(await pendingOutboxCount(db)).toBe(3);

    const published: DomainEvent[] = [];
    const up: EventPublisher = { publish: async (batch) => { published.push(...batch); }, close: async () => {} };
    expect(await relayOnce(db, up, 100, "saga", options)).toBe(3);
    expect(published.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(await pendingOutboxCount(db)).toBe(0);
    expect(await relayOnce(db, up, 100, "saga", options)).toBe(0);
  });

  it("relays the saga lane with claims, no transaction: a batch is two statements (claim, mark), an empty round one", async () => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const events = [event(), event()];
    await appendToOutbox(db, ...events);
    const statements: string[] = [];
    const counted: typeof db = {
      $executeRawUnsafe: (sql, ...values) => { statements.push(sql); return db.$executeRawUnsafe(sql, ...values); },
      $queryRawUnsafe: <T>(sql: string, ...values: unknown[]) => { statements.push(sql); return db.$queryRawUnsafe<T>(sql, ...values); },
      $transaction: (fn, options) => { statements.push("BEGIN"); return db.$transaction(fn, options); },
    };
    const published: string[] = [];
    const up: EventPublisher = { publish: async (batch) => { published.push(...batch.map((e) => e.eventId)); }, close: async () => {} };
    const claim = { claim: true };
    expect(await relayOnce(counted, up, 100, "saga", claim)).toBe(2);
    expect(published).toEqual(events.map((e) => e.eventId));
    expect(statements).toHaveLength(2);
    expect(await pendingOutboxCount(db)).toBe(0);
    expect(await relayOnce(counted, up, 100, "saga", claim)).toBe(0);
    expect(statements).toHaveLength(3);
  });

  it("saga lane: a batch claimed by a relay that never finishes is skipped by others until the claim lapses, then published", async () => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const stuck = event();
    await appendToOutbox(db, stuck);
    let claimed!: () => void;
    const publishing = new Promise<void>((resolve) => { claimed = resolve; });
    // A relay that dies inside its publish: it claimed the row and will never mark it.
    const dying: EventPublisher = { publish: () => { claimed(); return new Promise<void>(() => {}); }, close: async () => {} };
    const claim = { claim: true };
    void relayOnce(db, dying, 100, "saga", claim);
    await publishing;
    const published: string[] = [];
    const up: EventPublisher = { publish: async (batch) => { published.push(...batch.map((e) => e.eventId)); }, close: async () => {} };
    expect(await relayOnce(db, up, 100, "saga", claim)).toBe(0);
    expect(await pendingOutboxCount(db)).toBe(1);
    // The claim lapses (SAGA_CLAIM_MS later): any relay publishes the row.
    await db.$executeRawUnsafe(`UPDATE outbox_event SET available_at = now() - interval '1 millisecond' WHERE id = $1::uuid`, stuck.eventId);
    expect(await relayOnce(db, up, 100, "saga", claim)).toBe(1);
    expect(published).toEqual([stuck.eventId]);
    expect(await pendingOutboxCount(db)).toBe(0);
  });

  it.each([["in transactions", {}], ["with claims", { claim: true }]])("lets concurrent relays publish disjoint batches (FOR UPDATE SKIP LOCKED, %s)", async (_mode, options) => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    await db.$transaction((tx) => appendToOutbox(tx, ...Array.from({ length: 40 }, event)));
    const seen: string[] = [];
    const slow: EventPublisher = {
      publish: async (batch) => {
        await new Promise((r) => setTimeout(r, 50));
        seen.push(...batch.map((e) => e.eventId));
      },
      close: async () => {},
    };
    const counts = await Promise.all([relayOnce(db, slow, 10, "saga", options), relayOnce(db, slow, 10, "saga", options), relayOnce(db, slow, 10, "saga", options)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("relays the change lane one relay at a time, in outbox order, each change once", async () => {
    const db = pgClient(pool);
    const change = (version: number) => createEvent("MyReservationChanged", { reservationId: randomUUID(), customerId: "carol" },
      { carId: "car-001", status: "RESERVED", paymentStatus: null, rentalStatus: null, version, updatedAt: new Date().toISOString() });
    const changes = Array.from({ length: 25 }, (_, i) => change(i + 1));
    for (const c of changes) await appendToOutbox(db, c);
    const seen: string[] = [];
    const record: EventPublisher = { publish: async (batch) => { seen.push(...batch.map((e) => e.eventId)); }, close: async () => {} };
    // While one relay holds the lane (inside its publish), a second one gets nothing, not the next batch.
    let second: number | undefined;
    const holding: EventPublisher = {
      publish: async (batch) => {
        second = await relayOnce(db, record, 10, "changes");
        seen.push(...batch.map((e) => e.eventId));
      },
      close: async () => {},
    };
    expect(await relayOnce(db, holding, 10, "changes")).toBe(10);
    expect(second).toBe(0);
    expect(await relayOnce(db, record, 10, "changes")).toBe(10);
    expect(await relayOnce(db, record, 10, "changes")).toBe(5);
    expect(await relayOnce(db, record, 10, "changes")).toBe(0);
    expect(seen).toEqual(changes.map((c) => c.eventId));
  });

  it("prunes published rows older than the retention, never pending ones", async () => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const [old, recent, pending] = [event(), event(), event()];
    await appendToOutbox(db, old, recent, pending);
    await db.$executeRawUnsafe(`UPDATE outbox_event SET published_at = now() - interval '2 hours', created_at = now() - interval '2 hours' WHERE id = $1::uuid`, old.eventId);
    await db.$executeRawUnsafe(`UPDATE outbox_event SET published_at = now() WHERE id = $1::uuid`, recent.eventId);
    await db.$executeRawUnsafe(`UPDATE outbox_event SET created_at = now() - interval '2 hours' WHERE id = $1::uuid`, pending.eventId);
    expect(await pruneOutbox(db, 3_600_000, 1)).toBe(1);
    const left = await db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM outbox_event ORDER BY seq`);
    expect(left.map((r) => r.id)).toEqual([recent.eventId, pending.eventId]);
    await db.$executeRawUnsafe(`UPDATE outbox_event SET published_at = now() - interval '3 hours' WHERE id = $1::uuid`, recent.eventId);
    expect(await pruneOutbox(db, 3_600_000, 1)).toBe(1);
    expect(await pendingOutboxCount(db)).toBe(1);
  });

  it("holds back a delayed event until it is due or released", async () => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const [delayed, due] = [event(), event()];
    const values: unknown[] = [];
    await db.$executeRawUnsafe(outboxInsertSql((v) => `$${values.push(v)}`, [delayed], { delayMs: 3_600_000 }), ...values);
    await appendToOutbox(db, due);
    const published: string[] = [];
    const up: EventPublisher = { publish: async (batch) => { published.push(...batch.map((e) => e.eventId)); }, close: async () => {} };
    expect(await relayOnce(db, up)).toBe(1);
    expect(published).toEqual([due.eventId]);
    await db.$executeRawUnsafe(`UPDATE outbox_event SET available_at = now() WHERE id = $1::uuid`, delayed.eventId);
    expect(await relayOnce(db, up)).toBe(1);
    expect(published).toEqual([due.eventId, delayed.eventId]);
  });

  it("remembers a kick that arrives while a batch is being published (no wait for the next poll)", async () => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const [first, second] = [event(), event()];
    await appendToOutbox(db, first);
    const published: string[] = [];
    let relay: ReturnType<typeof startOutboxRelay> | undefined;
    let release!: () => void;
    const firstBatchStarted = new Promise<void>((resolve) => { release = resolve; });
    const publisher: EventPublisher = {
      publish: async (batch) => {
        if (published.length === 0) {
          // A commit lands and kicks the relay while this batch is still being published.
          await appendToOutbox(db, second);
          relay!.kick();
          release();
        }
        published.push(...batch.map((e) => e.eventId));
      },
      close: async () => {},
    };
    const log = createLogger("outbox-relay-test", "silent");
    // The poll interval is a minute: only the remembered kick can publish the second event in time.
    relay = startOutboxRelay({ db, publisher, log, pollIntervalMs: 60_000, lanes: ["saga"] });
    try {
      relay.kick();
      await firstBatchStarted;
      const deadline = Date.now() + 10_000;
      while (!published.includes(second.eventId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(published).toEqual([first.eventId, second.eventId]);
    } finally {
      await relay.stop();
    }
  });

  it("kick(lane) starts a round of that lane only: the other lane waits for its poll", async () => {
    const db = pgClient(pool);
    await db.$executeRawUnsafe(`DELETE FROM outbox_event`);
    const sagaEvent = event();
    const change = createEvent("MyReservationChanged", { reservationId: randomUUID(), customerId: "alice" },
      { carId: "car-001", status: "PAID", paymentStatus: "PAID", rentalStatus: null, cancellationReason: null, version: 2, updatedAt: new Date().toISOString() });
    const published: string[] = [];
    const publisher: EventPublisher = { publish: async (batch) => { published.push(...batch.map((e) => e.eventId)); }, close: async () => {} };
    // A minute's poll: within the test only kicks start rounds (each lane runs one when it starts).
    let rounds = 0;
    const counted: typeof db = { ...db, $transaction: async (fn, options) => { try { return await db.$transaction(fn, options); } finally { rounds++; } } };
    const relay = startOutboxRelay({ db: counted, publisher, log: createLogger("outbox-relay-test", "silent"), pollIntervalMs: 60_000 });
    try {
      for (const deadline = Date.now() + 10_000; rounds < 2 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
      expect(rounds).toBe(2); // both lanes' first (empty) rounds are done
      await appendToOutbox(db, sagaEvent, change);
      relay.kick("changes");
      const deadline = Date.now() + 10_000;
      while (rounds < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      // Time for a wrongly kicked saga lane to run its round (it would start at once, beside the change lane's).
      await new Promise((r) => setTimeout(r, 200));
      expect(rounds).toBe(3); // the kicked lane's round only
      expect(published).toEqual([change.eventId]);
      relay.kick();
      while (!published.includes(sagaEvent.eventId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(published).toEqual([change.eventId, sagaEvent.eventId]);
    } finally {
      await relay.stop();
    }
  });
});
