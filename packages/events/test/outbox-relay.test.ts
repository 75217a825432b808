import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@rentcar/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvent, type DomainEvent } from "../src/contracts.ts";
import { appendToOutbox, pendingOutboxCount } from "../src/outbox.ts";
import { relayOnce } from "../src/outbox-relay.ts";
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
  it("keeps events pending while publishing fails and publishes them in order once it works", async () => {
    const db = pgClient(pool);
    const events = [event(), event(), event()];
    await db.$transaction((tx) => appendToOutbox(tx, ...events));
    const down: EventPublisher = { publish: async () => { throw new Error("Redis down"); }, close: async () => {} };
    await expect(relayOnce(db, down)).rejects.toThrow("Redis down");
    expect(await pendingOutboxCount(db)).toBe(3);

    const published: DomainEvent[] = [];
    const up: EventPublisher = { publish: async (batch) => { published.push(...batch); }, close: async () => {} };
    expect(await relayOnce(db, up)).toBe(3);
    expect(published.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(await pendingOutboxCount(db)).toBe(0);
    expect(await relayOnce(db, up)).toBe(0);
  });

  it("lets concurrent relays publish disjoint batches (FOR UPDATE SKIP LOCKED)", async () => {
    const db = pgClient(pool);
    await db.$transaction((tx) => appendToOutbox(tx, ...Array.from({ length: 40 }, event)));
    const seen: string[] = [];
    const slow: EventPublisher = {
      publish: async (batch) => {
        await new Promise((r) => setTimeout(r, 50));
        seen.push(...batch.map((e) => e.eventId));
      },
      close: async () => {},
    };
    const counts = await Promise.all([relayOnce(db, slow, 10), relayOnce(db, slow, 10), relayOnce(db, slow, 10)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
