import { randomUUID } from "node:crypto";
import { createDatabasePool, createPrismaAdapter, createSqlClient } from "@rentcar/db";
import { applyEvent, createEvent, type EventHandler } from "@rentcar/events";
import { createLogger, type SqlClient } from "@rentcar/platform";
import { createTestDatabase, type TestDatabase } from "@rentcar/testkit";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rentalEventHandlers } from "../src/event-handlers.ts";
import { seedFleet } from "../src/fleet-seed.ts";
import { PrismaClient } from "../src/generated/prisma/client.ts";

let database: TestDatabase;
let pool: pg.Pool;
let prisma: PrismaClient;
const handlers = rentalEventHandlers(createLogger("rental-test", "silent"));
const sql = () => createSqlClient(pool);
const apply = (event: Parameters<typeof applyEvent>[2]) => applyEvent(sql(), handlers[event.type] as EventHandler<SqlClient>, event);

beforeAll(async () => {
  database = await createTestDatabase("rental");
  pool = createDatabasePool(database.url, { max: 8 });
  prisma = new PrismaClient({ adapter: createPrismaAdapter(pool) }); // ends the pool on $disconnect
  await seedFleet(prisma);
});
afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

const count = async (query: string, ...values: unknown[]) => Number((await pool.query<{ n: string }>(query, values)).rows[0]!.n);

describe("PaymentCompleted in one statement (inbox, rental, RentalReady)", () => {
  it("applied 4 times at once: one READY rental, one RentalReady, one delivery reported as applied", async () => {
    const reservationId = randomUUID();
    const event = createEvent("PaymentCompleted", { reservationId, customerId: "rental-once" }, { paymentId: randomUUID(), amount: 100, carId: "car-003" });
    const applied = await Promise.all([apply(event), apply(event), apply(event), apply(event)]);
    expect(applied.filter(Boolean)).toHaveLength(1);
    expect(await count(`SELECT count(*) AS n FROM rental WHERE reservation_id = $1::uuid AND status = 'READY' AND car_id = 'car-003'`, reservationId)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM outbox_event WHERE reservation_id = $1::uuid AND type = 'RentalReady'`, reservationId)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM inbox_event WHERE event_id = $1::uuid`, event.eventId)).toBe(1);
  });

  it("after a cancellation's tombstone: records the event, creates nothing, emits nothing", async () => {
    const reservationId = randomUUID();
    const c = { reservationId, customerId: "rental-late" };
    expect(await apply(createEvent("PaymentCancelled", c, { paymentId: randomUUID(), outcome: "CANCELLED", carId: "car-004" }))).toBe(true);
    const late = createEvent("PaymentCompleted", c, { paymentId: randomUUID(), amount: 100, carId: "car-004" });
    expect(await apply(late)).toBe(true);
    expect(await apply(late)).toBe(false);
    expect(await count(`SELECT count(*) AS n FROM rental WHERE reservation_id = $1::uuid AND status = 'CANCELLED'`, reservationId)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM outbox_event WHERE reservation_id = $1::uuid AND type = 'RentalReady'`, reservationId)).toBe(0);
  });
});
