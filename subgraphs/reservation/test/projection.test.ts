import { randomUUID } from "node:crypto";
import { createPrismaAdapter } from "@rentcar/db";
import { applyEvent, createEvent, type DomainEvent, type EventHandler } from "@rentcar/events";
import { createTestDatabase, type TestDatabase } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reservationEventHandlers } from "../src/event-handlers.ts";
import { writeFirstVersion } from "../src/my-reservations.ts";
import { PrismaClient, type Prisma, type Reservation } from "../src/generated/prisma/client.ts";

let database: TestDatabase;
let db: PrismaClient;
beforeAll(async () => {
  database = await createTestDatabase("reservation");
  db = new PrismaClient({ adapter: createPrismaAdapter(database.url, { max: 12 }) });
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

/** A reservation row as reserveCar commits it: no read-model row yet (its first version comes with the payment). */
async function insertReservation(customerId: string, day: number): Promise<string> {
  const id = randomUUID();
  const start = Date.UTC(2030, 0, 1) + day * 86_400_000;
  await db.$executeRawUnsafe(
    `INSERT INTO reservation (id, customer_id, car_id, pickup_at, return_at, amount, status, created_at, updated_at)
     VALUES ($1::uuid, $2, 'car-001', $3::timestamptz, $4::timestamptz, 100, 'RESERVED', now(), now())`,
    id, customerId, new Date(start).toISOString(), new Date(start + 86_400_000).toISOString());
  return id;
}

const apply = (event: DomainEvent) =>
  applyEvent(db, reservationEventHandlers[event.type] as EventHandler<Prisma.TransactionClient>, event);

describe("read model under concurrent events", () => {
  it("applies one saga's events concurrently, in any order and twice each: versions 1..n, one per change, final state complete", async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => insertReservation(`proj-${i}`, i)));
    const eventsOf = (reservationId: string, customerId: string): DomainEvent[] => {
      const c = { reservationId, customerId };
      const rentalId = randomUUID();
      return [
        createEvent("PaymentRegistered", c, { paymentId: randomUUID(), amount: 100 }),
        createEvent("PaymentCompleted", c, { paymentId: randomUUID(), amount: 100, carId: "car-001" }),
        createEvent("RentalReady", c, { rentalId, carId: "car-001" }),
        createEvent("CarPickedUp", c, { rentalId, carId: "car-001" }),
        createEvent("CarReturned", c, { rentalId, carId: "car-001" }),
      ];
    };
    const all = ids.flatMap((id, i) => eventsOf(id, `proj-${i}`));
    // Every event delivered twice, all at once: the view's writers of one reservation race each other.
    const results = await Promise.all([...all, ...all].map(apply));
    expect(results.filter(Boolean)).toHaveLength(all.length);

    for (const id of ids) {
      const versions = await db.$queryRawUnsafe<{ version: number; status: string; paymentStatus: string | null; rentalStatus: string | null }[]>(
        `SELECT (payload->'payload'->>'version')::int AS version, payload->'payload'->>'status' AS status,
                payload->'payload'->>'paymentStatus' AS "paymentStatus", payload->'payload'->>'rentalStatus' AS "rentalStatus"
           FROM outbox_event WHERE type = 'MyReservationChanged' AND reservation_id = $1::uuid ORDER BY seq`, id);
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
      expect(versions.at(-1)).toEqual({ version: versions.length, status: "RETURNED", paymentStatus: "PAID", rentalStatus: "RETURNED" });
      const [view] = await db.$queryRawUnsafe<{ version: number; status: string }[]>(`SELECT version, status FROM my_reservation WHERE reservation_id = $1::uuid`, id);
      expect(view).toEqual({ version: versions.length, status: "RETURNED" });
      const [reservation] = await db.$queryRawUnsafe<{ status: string; paid: boolean; picked: boolean; registered: boolean }[]>(
        `SELECT status::text, paid_at IS NOT NULL AS paid, picked_up_at IS NOT NULL AS picked, payment_id IS NOT NULL AS registered FROM reservation WHERE id = $1::uuid`, id);
      expect(reservation).toEqual({ status: "COMPLETED", paid: true, picked: true, registered: true });
    }
  });

  it("an event for an unknown reservation writes nothing", async () => {
    const event = createEvent("RentalReady", { reservationId: randomUUID(), customerId: "nobody" }, { rentalId: randomUUID(), carId: "car-001" });
    expect(await apply(event)).toBe(true);
    const [row] = await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM outbox_event WHERE reservation_id = $1::uuid`, event.reservationId);
    expect(row!.n).toBe(0);
  });
});

/** The view versions published for a reservation, in outbox order. */
const publishedVersions = (id: string) => db.$queryRawUnsafe<{ version: number; status: string; paymentStatus: string | null }[]>(
  `SELECT (payload->'payload'->>'version')::int AS version, payload->'payload'->>'status' AS status, payload->'payload'->>'paymentStatus' AS "paymentStatus"
     FROM outbox_event WHERE type = 'MyReservationChanged' AND reservation_id = $1::uuid ORDER BY seq`, id);
const reservationRow = async (id: string) =>
  (await db.$queryRawUnsafe<Reservation[]>(`SELECT id, customer_id AS "customerId", car_id AS "carId", amount, status::text AS status,
     payment_id AS "paymentId", created_at AS "createdAt", updated_at AS "updatedAt" FROM reservation WHERE id = $1::uuid`, id))[0]!;
/** A pending PaymentRegistrationRequested-like outbox row, as reserveCar leaves it for the background registration. */
async function pendingRegistration(reservationId: string): Promise<string> {
  const id = randomUUID();
  await db.$executeRawUnsafe(`INSERT INTO outbox_event (id, type, reservation_id, payload, available_at) VALUES ($1::uuid, 'PaymentRegistrationRequested', $2::uuid, '{}'::jsonb, now() + interval '1 hour')`, id, reservationId);
  return id;
}

describe("reserveCar's first view version in one statement (writeFirstVersion)", () => {
  it("records the payment, withdraws the background registration and writes version 1 (RESERVED, payment REQUESTED)", async () => {
    const id = await insertReservation("first-1", 40);
    const registration = await pendingRegistration(id);
    const paymentId = randomUUID();
    const written = await writeFirstVersion(db, await reservationRow(id), paymentId, registration);
    expect(written).toMatchObject({ id, paymentId, status: "RESERVED" });
    expect(await publishedVersions(id)).toEqual([{ version: 1, status: "RESERVED", paymentStatus: "REQUESTED" }]);
    expect((await reservationRow(id)).paymentId).toBe(paymentId);
    const [left] = await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM outbox_event WHERE id = $1::uuid`, registration);
    expect(left!.n).toBe(0);
  });

  it("writes nothing to the view and returns null when another writer got there first (the caller then projects)", async () => {
    const id = await insertReservation("first-2", 41);
    const before = await reservationRow(id);
    // An event won the race and wrote the view's first version without setting the payment id.
    await apply(createEvent("PaymentCompleted", { reservationId: id, customerId: "first-2" }, { paymentId: randomUUID(), amount: 100, carId: "car-001" }));
    expect(await writeFirstVersion(db, before, randomUUID(), randomUUID())).toBeNull();
    expect(await publishedVersions(id)).toEqual([{ version: 1, status: "PAID", paymentStatus: "PAID" }]);
    const [view] = await db.$queryRawUnsafe<{ version: number; status: string }[]>(`SELECT version, status FROM my_reservation WHERE reservation_id = $1::uuid`, id);
    expect(view).toEqual({ version: 1, status: "PAID" });
  });

  it("racing the saga's events, twice each, still publishes versions 1..n with one first version", async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => insertReservation(`first-race-${i}`, 50 + i)));
    await Promise.all(ids.map(async (id, i) => {
      const c = { reservationId: id, customerId: `first-race-${i}` };
      const row = await reservationRow(id);
      const events = [
        createEvent("PaymentRegistered", c, { paymentId: randomUUID(), amount: 100 }),
        createEvent("PaymentCompleted", c, { paymentId: randomUUID(), amount: 100, carId: "car-001" }),
        createEvent("RentalReady", c, { rentalId: randomUUID(), carId: "car-001" }),
      ];
      await Promise.all([writeFirstVersion(db, row, randomUUID(), randomUUID()), writeFirstVersion(db, row, randomUUID(), randomUUID()),
        ...[...events, ...events].map(apply)]);
      const versions = await publishedVersions(id);
      expect(versions.map((v) => v.version)).toEqual(versions.map((_, k) => k + 1));
      expect(versions.at(-1)).toMatchObject({ status: "READY", paymentStatus: "PAID" });
    }));
  });
});
