import { isDeepStrictEqual } from "node:util";
import { createPrismaAdapter, createSqlClient } from "@rentcar/db";
import {
  applyEvent, parseEvent, ROUTES, type ConsumerName, type DomainEvent, type EventHandler, type EventHandlers, type TransactionalClient,
} from "@rentcar/events";
import {
  paymentEventHandlers, PaymentPrismaClient, payReservation, upsertRequestedPayment,
} from "@rentcar/payment";
import { createIdempotency, createLogger, type RequestContext } from "@rentcar/platform";
import {
  pickUpCar, rentalEventHandlers, RentalPrismaClient, returnCar, seedFleet, type RentalDeps,
} from "@rentcar/rental";
import {
  availableCarIds, cancelReservation, claimPickUp, reservationEventHandlers, ReservationPrismaClient, reserveCar,
  seedRateCard, type ReservationDeps,
} from "@rentcar/reservation";
import { createTestDatabase, type TestDatabase } from "@rentcar/testkit";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Property: for every lifecycle, delivering the saga's events through the real consumer
// handlers (applyEvent + each subgraph's handlers) against real PostgreSQL in ANY order,
// with duplicates, interleaved with the commands whenever they are possible, ends in the
// same state as in-order delivery, and no read-model row ever published is impossible.
// The lifecycles run concurrently, each in its own lane (customer + car), so its schedules
// never see each other's rows; a lane's rows are deleted before each of its schedules.

const RUNS = Number(process.env.SAGA_PROPERTY_RUNS ?? 200);
const log = createLogger("saga-property", "silent");

type Subgraph = ConsumerName;
let databases: Record<Subgraph, TestDatabase>;
let pools: Record<Subgraph, pg.Pool>;
let reservationDb: ReservationPrismaClient;
let paymentDb: PaymentPrismaClient;
let rentalDb: RentalPrismaClient;

beforeAll(async () => {
  const [reservation, payment, rental] = await Promise.all([
    createTestDatabase("reservation"), createTestDatabase("payment"), createTestDatabase("rental")]);
  databases = { reservation: reservation!, payment: payment!, rental: rental! };
  // Thousands of tiny transactions: durability is irrelevant here, commit latency is not.
  for (const db of Object.values(databases)) {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${new URL(db.url).pathname.slice(1)}" SET synchronous_commit = off`);
    await admin.end();
  }
  pools = {
    reservation: new pg.Pool({ connectionString: reservation!.url, max: 4 }),
    payment: new pg.Pool({ connectionString: payment!.url, max: 4 }),
    rental: new pg.Pool({ connectionString: rental!.url, max: 4 }),
  };
  for (const pool of Object.values(pools)) pool.on("error", () => {});
  reservationDb = new ReservationPrismaClient({ adapter: createPrismaAdapter(reservation!.url, { max: 6 }) });
  paymentDb = new PaymentPrismaClient({ adapter: createPrismaAdapter(payment!.url, { max: 6 }) });
  rentalDb = new RentalPrismaClient({ adapter: createPrismaAdapter(rental!.url, { max: 6 }) });
  await Promise.all([seedRateCard(reservationDb), seedFleet(rentalDb)]);
});
afterAll(async () => {
  await Promise.all([reservationDb?.$disconnect(), paymentDb?.$disconnect(), rentalDb?.$disconnect()]);
  await Promise.all(Object.values(pools ?? {}).map((p) => p.end()));
  await Promise.all(Object.values(databases ?? {}).map((d) => d.drop()));
});

// ---------------------------------------------------------------------------------------
// The saga's moving parts, wired in-process: each consumer's real handlers and commands.

// Each subgraph has its own Prisma transaction type; the harness only passes them through.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTx = any;
const consumers = (): Record<Subgraph, { db: TransactionalClient<AnyTx>; handlers: EventHandlers<AnyTx> }> => ({
  // As the service runs it: reservation's consumer on plain SQL over its pool.
  reservation: { db: createSqlClient(pools.reservation), handlers: reservationEventHandlers },
  payment: { db: paymentDb, handlers: paymentEventHandlers },
  rental: { db: rentalDb, handlers: rentalEventHandlers(log) },
});

/** Where one lifecycle's schedules run: its own customer and car. */
interface Lane { customer: string; car: string }

const ctx = (lane: Lane, issuer = "router"): RequestContext =>
  ({ requestId: "property", log, caller: { issuer, customerId: lane.customer }, customerId: lane.customer });

// No Idempotency-Key in these commands: each runs once, as the saga step it is.
const idempotency = createIdempotency({ secret: "saga-property-test-secret" });

/** Reservation's dependencies; the synchronous payment call runs payment's real registration in-process, or fails (payment down). */
function reservationDeps(paymentUp: boolean): ReservationDeps {
  return {
    db: reservationDb,
    sql: createSqlClient(pools.reservation),
    payments: {
      state: 0,
      register: async (registration: Parameters<ReservationDeps["payments"]["register"]>[0]) => {
        if (!paymentUp) throw new Error("payment down (lifecycle with a delayed payment)");
        return (await upsertRequestedPayment(paymentDb, registration)).id;
      },
    } as unknown as ReservationDeps["payments"],
    limits: { maxRentalDays: 30, bookingHorizonDays: 365 },
    idempotency,
    holds: { unpaidHoldSeconds: 1_800, maxUnpaidHolds: 3 },
    published: () => {},
  };
}

/** Rental's dependencies; the synchronous pick-up claim runs reservation's real claim in-process. */
const rentalDeps = (lane: Lane): RentalDeps => ({
  db: rentalDb,
  claims: { claim: async (reservationId, customerId) => { await claimPickUp(reservationDb, ctx(lane, "rental"), customerId, reservationId); } },
});

const DAY = 86_400_000;
/** Every schedule reserves its lane's car for the same 2-day period (fixed once, so an hour boundary cannot move it). */
const PERIOD_START = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 10 * DAY;
const period = () => ({ pickupAt: new Date(PERIOD_START), returnAt: new Date(PERIOD_START + 2 * DAY) });

type Command = "reserve" | "reserveDelayed" | "pay" | "pickUp" | "return" | "cancel";

interface Lifecycle {
  name: string;
  commands: Command[];
  /** The final state in-order delivery must reach (a sanity check of the reference itself). */
  expected: Snapshot;
}

const row = async <T>(subgraph: Subgraph, sql: string, params: unknown[] = []): Promise<T | undefined> =>
  (await pools[subgraph].query(sql, params)).rows[0] as T | undefined;

/** Whether a command can run now (its precondition, as a customer would experience it). */
async function enabled(command: Command, reservationId: string | undefined): Promise<boolean> {
  if (command === "reserve" || command === "reserveDelayed") return true;
  if (command === "pay") return (await row(("payment"), "SELECT 1 FROM payment WHERE reservation_id = $1", [reservationId])) !== undefined;
  if (command === "pickUp") return (await row("rental", "SELECT 1 FROM rental WHERE reservation_id = $1 AND status = 'READY'", [reservationId])) !== undefined;
  return true;
}

/** Runs a command; every command of a lifecycle must succeed once enabled. @returns the reservation id. */
async function run(lane: Lane, command: Command, reservationId: string | undefined): Promise<string> {
  const id = reservationId!;
  const { customer } = lane;
  switch (command) {
    case "reserve":
    case "reserveDelayed":
      return (await reserveCar(reservationDeps(command === "reserve"), ctx(lane), customer, { carId: lane.car, ...period() })).id;
    case "pay":
      await payReservation(paymentDb, idempotency, ctx(lane), customer, { reservationId: id, cardNumber: "4242424242424242" });
      return id;
    case "pickUp":
      await pickUpCar(rentalDeps(lane), ctx(lane), customer, id);
      return id;
    case "return":
      await returnCar(rentalDeps(lane), ctx(lane), customer, id);
      return id;
    case "cancel":
      await cancelReservation(reservationDeps(true), ctx(lane), customer, id);
      return id;
  }
}

// ---------------------------------------------------------------------------------------
// One schedule: commands and deliveries interleaved as the choices say.

/**
 * What the random schedule decides for each action when it becomes possible: its priority
 * (the possible action with the lowest one runs next, so a high draw holds an event back
 * while others overtake it) and, for a delivery, whether it is delivered again later.
 */
type Draw = { priority: number; redeliver: boolean };
type Drawer = (kind: "command" | "delivery") => Draw;

interface Delivery { consumer: Subgraph; event: DomainEvent; draw: Draw; redeliveries: number }

/** Deletes the lane's rows from every saga table of the three databases (the fleet and rate card stay). */
async function reset(lane: Lane): Promise<void> {
  const ofLane = (table: string) => `SELECT reservation_id FROM ${table} WHERE customer_id = $1`;
  await Promise.all([
    pools.reservation.query(`WITH o AS (DELETE FROM outbox_event WHERE reservation_id IN (SELECT id FROM reservation WHERE customer_id = $1)),
      m AS (DELETE FROM my_reservation WHERE customer_id = $1) DELETE FROM reservation WHERE customer_id = $1`, [lane.customer]),
    pools.payment.query(`WITH o AS (DELETE FROM outbox_event WHERE reservation_id IN (${ofLane("payment")})) DELETE FROM payment WHERE customer_id = $1`, [lane.customer]),
    pools.rental.query(`WITH o AS (DELETE FROM outbox_event WHERE reservation_id IN (${ofLane("rental")})) DELETE FROM rental WHERE customer_id = $1`, [lane.customer]),
  ]);
}

/** Events of this reservation committed to `subgraph`'s outbox since the last look, routed to their consumers. */
async function collect(subgraph: Subgraph, reservationId: string, seen: Map<Subgraph, string>, pending: Delivery[], draw: Drawer): Promise<void> {
  const rows = (await pools[subgraph].query<{ seq: string; payload: unknown }>(
    "SELECT seq::text, payload FROM outbox_event WHERE reservation_id = $1 AND seq > $2 ORDER BY seq", [reservationId, seen.get(subgraph) ?? "0"])).rows;
  for (const r of rows) {
    seen.set(subgraph, r.seq);
    const parsed = parseEvent(r.payload);
    if (!parsed.ok) throw new Error(`invalid event in ${subgraph}'s outbox: ${parsed.reason}`);
    for (const consumer of ROUTES[parsed.event.type]) pending.push({ consumer, event: parsed.event, draw: draw("delivery"), redeliveries: 0 });
  }
}

const SUBGRAPH_OF: Record<Command, Subgraph> = {
  reserve: "reservation", reserveDelayed: "reservation", cancel: "reservation", pay: "payment", pickUp: "rental", return: "rental",
};

/** Runs one lifecycle from a clean lane: each step runs the possible action with the lowest drawn priority; @returns the reservation id. */
async function execute(lane: Lane, lifecycle: Lifecycle, draw: Drawer): Promise<string> {
  await reset(lane);
  const seen = new Map<Subgraph, string>();
  const pending: Delivery[] = [];
  const handlers = consumers();
  let reservationId: string | undefined;
  let next = 0;
  let commandDraw = draw("command");
  for (;;) {
    const command = lifecycle.commands[next];
    const commandReady = command !== undefined && await enabled(command, reservationId);
    const delivery = pending.reduce<Delivery | undefined>((min, d) => (!min || d.draw.priority < min.draw.priority ? d : min), undefined);
    if (commandReady && (!delivery || commandDraw.priority <= delivery.draw.priority)) {
      reservationId = await run(lane, command, reservationId);
      next++;
      commandDraw = draw("command");
      await collect(SUBGRAPH_OF[command], reservationId, seen, pending, draw);
      continue;
    }
    if (!delivery) {
      if (command !== undefined) throw new Error(`${lifecycle.name}: ${command} never became possible`);
      return reservationId!;
    }
    if (delivery.draw.redeliver && delivery.redeliveries < 2) {
      delivery.redeliveries++;
      delivery.draw = draw("delivery");
    } else {
      pending.splice(pending.indexOf(delivery), 1);
    }
    const { db, handlers: byType } = handlers[delivery.consumer];
    const handler = byType[delivery.event.type] as EventHandler<AnyTx> | undefined;
    if (!handler) throw new Error(`${delivery.consumer} has no handler for ${delivery.event.type}`);
    await applyEvent(db, handler, delivery.event);
    await collect(delivery.consumer, reservationId!, seen, pending, draw);
  }
}

/** In-order delivery: every event is delivered, first produced first, before the next command runs; no duplicates. */
function inOrder(): Drawer {
  let counter = 0;
  return (kind) => ({ priority: (kind === "command" ? 1e9 : 0) + counter++, redeliver: false });
}

/** A random schedule from fast-check's draws; once they run out, actions run first come, first served. */
function fromDraws(draws: Draw[]): Drawer {
  let i = 0;
  return () => draws[i++] ?? { priority: 1_000 + i, redeliver: false };
}

// ---------------------------------------------------------------------------------------
// What is compared: the final state of all three subgraphs, the read model and availability.

interface Snapshot {
  reservation: { status: string; paid_registered: boolean; claimed: boolean };
  view: { status: string; payment_status: string | null; rental_status: string | null };
  payment: { status: string; card: boolean } | null;
  rental: { status: string; picked_up: boolean; returned: boolean } | null;
  carAvailable: boolean;
}

async function snapshot(lane: Lane, reservationId: string): Promise<Snapshot> {
  const [reservation, view, payment, rental] = await Promise.all([
    row<Snapshot["reservation"]>("reservation", "SELECT status::text, payment_id IS NOT NULL AS paid_registered, picked_up_at IS NOT NULL AS claimed FROM reservation WHERE id = $1", [reservationId]),
    row<Snapshot["view"]>("reservation", "SELECT status, payment_status, rental_status FROM my_reservation WHERE reservation_id = $1", [reservationId]),
    row<Snapshot["payment"]>("payment", "SELECT status::text, card_last4 IS NOT NULL AS card FROM payment WHERE reservation_id = $1", [reservationId]),
    row<Snapshot["rental"]>("rental", "SELECT status::text, picked_up_at IS NOT NULL AS picked_up, returned_at IS NOT NULL AS returned FROM rental WHERE reservation_id = $1", [reservationId]),
  ]);
  const { pickupAt, returnAt } = period();
  const carAvailable = (await availableCarIds(reservationDeps(true), pickupAt, returnAt)).includes(lane.car);
  return { reservation: reservation!, view: view!, payment: payment ?? null, rental: rental ?? null, carAvailable };
}

/** Every read-model row ever published (each MyReservationChanged) must be possible: a stage implies its predecessors. */
async function impossibleRows(reservationId: string): Promise<string[]> {
  const rows = (await pools.reservation.query<{ payload: DomainEvent<"MyReservationChanged"> }>(
    "SELECT payload FROM outbox_event WHERE type = 'MyReservationChanged' AND reservation_id = $1 ORDER BY seq", [reservationId])).rows.map((r) => r.payload.payload);
  const paidOrRefunded = (p: string | null) => p === "PAID" || p === "REFUNDED";
  return rows.filter((v) =>
    (["READY", "PICKED_UP", "RETURNED"].includes(v.rentalStatus ?? "") && !paidOrRefunded(v.paymentStatus))
    || (v.rentalStatus === "CANCELLED" && v.paymentStatus !== "REFUNDED" && v.paymentStatus !== "CANCELLED")
    || (["PAID", "READY", "PICKED_UP", "RETURNED"].includes(v.status) && v.paymentStatus !== "PAID")
    || (v.status === "CANCELLED" && (v.rentalStatus === "PICKED_UP" || v.rentalStatus === "RETURNED")))
    .map((v) => `v${v.version} ${v.status} payment=${v.paymentStatus} rental=${v.rentalStatus}`);
}

// ---------------------------------------------------------------------------------------

const LIFECYCLES: Lifecycle[] = [
  {
    name: "paid -> picked up -> returned",
    commands: ["reserve", "pay", "pickUp", "return"],
    expected: {
      reservation: { status: "COMPLETED", paid_registered: true, claimed: true },
      view: { status: "RETURNED", payment_status: "PAID", rental_status: "RETURNED" },
      payment: { status: "PAID", card: true },
      rental: { status: "RETURNED", picked_up: true, returned: true },
      carAvailable: true,
    },
  },
  {
    name: "cancelled before payment",
    commands: ["reserve", "cancel"],
    expected: {
      reservation: { status: "CANCELLED", paid_registered: true, claimed: false },
      view: { status: "CANCELLED", payment_status: "CANCELLED", rental_status: "CANCELLED" },
      payment: { status: "CANCELLED", card: false },
      rental: { status: "CANCELLED", picked_up: false, returned: false },
      carAvailable: true,
    },
  },
  {
    name: "cancelled after payment",
    commands: ["reserve", "pay", "cancel"],
    expected: {
      reservation: { status: "CANCELLED", paid_registered: true, claimed: false },
      view: { status: "CANCELLED", payment_status: "REFUNDED", rental_status: "CANCELLED" },
      payment: { status: "REFUNDED", card: true },
      rental: { status: "CANCELLED", picked_up: false, returned: false },
      carAvailable: true,
    },
  },
  {
    // Payment registration delayed (payment down at reserveCar), then paid, picked up and returned:
    // the stuck-reservation case when PaymentRegistered is delivered last.
    name: "payment delayed, then paid (-> picked up -> returned)",
    commands: ["reserveDelayed", "pay", "pickUp", "return"],
    expected: {
      reservation: { status: "COMPLETED", paid_registered: true, claimed: true },
      view: { status: "RETURNED", payment_status: "PAID", rental_status: "RETURNED" },
      payment: { status: "PAID", card: true },
      rental: { status: "RETURNED", picked_up: true, returned: true },
      carAvailable: true,
    },
  },
  {
    name: "payment delayed, then cancelled",
    commands: ["reserveDelayed", "cancel"],
    expected: {
      reservation: { status: "CANCELLED", paid_registered: true, claimed: false },
      view: { status: "CANCELLED", payment_status: "CANCELLED", rental_status: "CANCELLED" },
      payment: { status: "CANCELLED", card: false },
      rental: { status: "CANCELLED", picked_up: false, returned: false },
      carAvailable: true,
    },
  },
];

describe.concurrent("saga handlers are order-independent (fast-check, real handlers, real PostgreSQL)", () => {
  LIFECYCLES.forEach((lifecycle, i) => {
    it(`${lifecycle.name}: ${RUNS} random schedules with duplicates end as in-order delivery`, async () => {
      const lane: Lane = { customer: `property-${i}`, car: `car-${String(11 + i).padStart(3, "0")}` };
      const inOrderId = await execute(lane, lifecycle, inOrder());
      const reference = await snapshot(lane, inOrderId);
      expect(reference).toEqual(lifecycle.expected);
      expect(await impossibleRows(inOrderId)).toEqual([]);

      // One unbiased draw per action (a lifecycle has fewer than 40, duplicates included): priorities below
      // 1000 (the first-come-first-served fallback), about one delivery in four delivered again.
      const draw = fc.noBias(fc.record({ priority: fc.nat({ max: 999 }), redeliver: fc.nat({ max: 3 }).map((n) => n === 0) }));
      const draws = fc.array(draw, { minLength: 40, maxLength: 40 });
      await fc.assert(fc.asyncProperty(draws, async (schedule) => {
        const reservationId = await execute(lane, lifecycle, fromDraws(schedule));
        const final = await snapshot(lane, reservationId);
        if (!isDeepStrictEqual(final, reference)) {
          throw new Error(`final state differs from in-order delivery:\n  got      ${JSON.stringify(final)}\n  in order ${JSON.stringify(reference)}`);
        }
        const impossible = await impossibleRows(reservationId);
        if (impossible.length > 0) throw new Error(`impossible read-model rows were published: ${impossible.join("; ")}`);
      }), { numRuns: RUNS });
    }, 600_000);
  });
});
