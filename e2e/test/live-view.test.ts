import type { ServiceProcess } from "@rentcar/devstack";
import { signCustomerToken } from "@rentcar/platform";
import { getPort } from "@rentcar/testkit";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import WebSocket from "ws";
import { eventually, inDays, JWT_SECRET, startTestStack, type TestStack } from "./support.ts";

let t: TestStack;
let replicaWsUrl: string;
let replica: ServiceProcess;
beforeAll(async () => {
  // Room for the 500-subscription fan-out test; the caps themselves are tested on a replica with small ones.
  // A patient payment call: on a loaded machine a 600 ms timeout turns reservations PAYMENT_DELAYED, which is not what this file tests.
  t = await startTestStack({ SUBSCRIPTIONS_PER_CUSTOMER: "600", SUBSCRIPTIONS_PER_CONNECTION: "100", PAYMENT_TIMEOUT_MS: "5000" });
  const port = await getPort();
  replica = await t.stack.startRouterReplica(port);
  replicaWsUrl = `ws://127.0.0.1:${port}/graphql`;
}, 120_000);
afterAll(async () => { await t?.close(); });

/** A gauge of the main router's /metrics. */
async function routerGauge(name: string): Promise<number> {
  const text = await (await fetch(t.stack.routerUrl.replace(/\/graphql$/, "/metrics"))).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").at(-1)) : Number.NaN;
}

const wsUrl = () => t.stack.routerUrl.replace(/^http/, "ws");
const SUBSCRIPTION = `subscription($id: ID, $after: String) { myReservationChanged(reservationId: $id, after: $after) {
  id reservationId cursor status paymentStatus rentalStatus version reservation { id car { model } payment { status } rental { status } }
} }`;

interface Row { id: string; reservationId: string; cursor: string; status: string; paymentStatus: string | null; rentalStatus: string | null; version: number; reservation: { car: { model: string } | null } | null }

/** Subscribes as `customer` and collects every delivered row; resolves once the subscription is acknowledged. */
async function watch(customer: string, url = wsUrl(), reservationId?: string, after?: string) {
  const rows: Row[] = [];
  const errors: { message: string; extensions?: { code?: string } }[] = [];
  const closes: number[] = [];
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${await signCustomerToken(JWT_SECRET, customer)}` },
    retryAttempts: 0,
  });
  const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
  client.on("closed", (event) => closes.push((event as { code: number }).code));
  client.subscribe<{ myReservationChanged: Row }>({ query: SUBSCRIPTION, variables: { id: reservationId ?? null, after: after ?? null } }, {
    next: (result) => {
      if (result.data) rows.push(result.data.myReservationChanged);
      errors.push(...(result.errors ?? []) as never[]);
    },
    error: (error) => { if (Array.isArray(error)) errors.push(...error); },
    complete: () => {},
  });
  await connected;
  await new Promise((resolve) => setTimeout(resolve, 200)); // the subscribe message is processed after the ack
  return { rows, errors, closes, close: () => client.dispose() };
}

/** Speaks graphql-transport-ws by hand: sends connection_init with `payload` and resolves with the close code. */
function closeCodeFor(payload: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(), "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload })));
    socket.on("close", (code) => resolve(code));
    socket.on("error", reject);
  });
}

let car = 0;
const reserve = async (customer: string) => (await t.gql(customer, `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`,
  { input: { carId: `car-${String(++car).padStart(3, "0")}`, pickupAt: inDays(3), returnAt: inDays(4) } })).data!.reserveCar.id as string;
const mutate = (customer: string, name: string, id: string) => t.gql(customer, `mutation($id: ID!) { ${name}(reservationId: $id) { __typename } }`, { id });
const pay = (customer: string, id: string) => t.gql(customer, `mutation($i: PayReservationInput!) { payReservation(input: $i) { status } }`, { i: { reservationId: id, cardNumber: "4242424242424242" } });
const statusesOf = (rows: Row[], id: string) => rows.filter((r) => r.reservationId === id).map((r) => r.status).filter((s, i, all) => s !== all[i - 1]);
const versionsOf = (rows: Row[], id: string) => rows.filter((r) => r.reservationId === id).map((r) => r.version);


/** The read model row as committed (straight from the database: no GraphQL operation, so it does not disturb operation counts). */
async function committed(reservationId: string): Promise<{ version: number; status: string; payment_status: string | null }> {
  const client = new pg.Client({ connectionString: t.databaseUrls.reservation });
  await client.connect();
  try {
    return (await client.query(`SELECT version, status, payment_status FROM my_reservation WHERE reservation_id = $1`, [reservationId])).rows[0];
  } finally {
    await client.end();
  }
}

/** Query operations the three subgraphs have served so far (sum of graphql_operations_total{type="query"}). */
async function subgraphQueries(): Promise<number> {
  let total = 0;
  for (const url of Object.values(t.stack.subgraphUrls)) {
    const text = await (await fetch(url.replace(/\/graphql$/, "/metrics"))).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("graphql_operations_total{") && line.includes('type="query"')) total += Number(line.split(" ").at(-1));
    }
  }
  return total;
}

/** Waits until every watcher has received the committed version of `id` and its payment is registered (the reservation settled). */
async function settled(id: string, watchers: { rows: Row[] }[]): Promise<number> {
  return eventually(async () => {
    const row = await committed(id);
    if (!row?.payment_status) return 0;
    return watchers.every((w) => w.rows.some((r) => r.reservationId === id && r.version === row.version)) ? row.version : 0;
  }, 60_000);
}

describe("my reservations: read model and live subscription through the router", () => {
  it("pushes every stage in version order, with fields from all subgraphs; another customer sees nothing", async () => {
    const alice = await watch("alice");
    const bob = await watch("bob");
    const done = await reserve("alice");
    await pay("alice", done);
    await eventually(async () => statusesOf(alice.rows, done).includes("READY"));
    await mutate("alice", "pickUpCar", done);
    await mutate("alice", "returnCar", done);
    const cancelled = await reserve("alice");
    await pay("alice", cancelled);
    await mutate("alice", "cancelReservation", cancelled);
    await eventually(async () => alice.rows.some((r) => r.reservationId === done && r.status === "RETURNED")
      && alice.rows.some((r) => r.reservationId === cancelled && r.rentalStatus === "CANCELLED" && r.paymentStatus === "REFUNDED"));

    expect(statusesOf(alice.rows, done)).toEqual(["RESERVED", "PAID", "READY", "PICKED_UP", "RETURNED"]);
    // The first version is written once the payment is registered, so it already says REQUESTED.
    expect(alice.rows.find((r) => r.reservationId === done)).toMatchObject({ version: 1, status: "RESERVED", paymentStatus: "REQUESTED" });
    for (const id of [done, cancelled]) {
      const versions = versionsOf(alice.rows, id);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    }
    expect(statusesOf(alice.rows, cancelled).at(-1)).toBe("CANCELLED");
    expect(alice.rows.find((r) => r.reservationId === done)!.reservation!.car!.model).toBeTruthy();
    expect(bob.rows).toEqual([]);

    const view = await t.gql("alice", `{ myReservations(first: 10) { reservationId status version reservation { payment { status } } } }`);
    expect(view.data!.myReservations.map((r: Row) => r.reservationId).slice(0, 2)).toEqual([cancelled, done]);
    const last = alice.rows.filter((r) => r.reservationId === done).at(-1)!;
    expect(view.data!.myReservations[1]).toMatchObject({ status: "RETURNED", version: last.version, reservation: { payment: { status: "PAID" } } });
    expect((await t.gql("bob", `{ myReservations { reservationId } }`)).data!.myReservations).toEqual([]);
    await Promise.all([alice.close(), bob.close()]);
  });

  it("fans out through Redis: a subscriber on each of two routers receives the same change once", async () => {
    const one = await watch("carol");
    const two = await watch("carol", replicaWsUrl);
    const id = await reserve("carol");
    // reserveCar writes one version (RESERVED, payment REQUESTED); wait for it on both replicas.
    await eventually(async () => one.rows.length >= 1 && two.rows.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(versionsOf(one.rows, id)).toEqual(versionsOf(two.rows, id));
    expect(new Set(versionsOf(one.rows, id)).size).toBe(versionsOf(one.rows, id).length);
    await Promise.all([one.close(), two.close()]);
  });

  it("filters by reservationId when given", async () => {
    const first = await reserve("dave");
    const watcher = await watch("dave", wsUrl(), first);
    const second = await reserve("dave");
    await pay("dave", first);
    await eventually(async () => watcher.rows.some((r) => r.status === "PAID"));
    expect(watcher.rows.every((r) => r.reservationId === first)).toBe(true);
    expect(second).not.toBe(first);
    await watcher.close();
  });

  it("a stopped router replica closes its sockets (1001, clients reconnect elsewhere); the other replica keeps delivering", async () => {
    const onMain = await watch("erin");
    const onReplica = await watch("erin", replicaWsUrl);
    expect(await replica.stop("SIGTERM")).toBe(0);
    await eventually(async () => onReplica.closes.length > 0);
    expect(onReplica.closes[0]).toBe(1001);
    const id = await reserve("erin");
    await eventually(async () => onMain.rows.some((r) => r.reservationId === id));
    await Promise.all([onMain.close(), onReplica.close()]);
  });

  it("a change whose nested fields fail (rental down) still arrives, with the error, and the subscription stays open", async () => {
    const watcher = await watch("hana");
    await t.stack.restart("rental", { restart: false });
    try {
      const id = await reserve("hana");
      await eventually(async () => watcher.rows.some((r) => r.reservationId === id));
      expect(watcher.rows.find((r) => r.reservationId === id)!.reservation!.car).toBeNull();
      expect(watcher.closes).toEqual([]);
    } finally {
      await t.stack.start("rental");
      await watcher.close();
    }
  }, 60_000);

  it("closes the socket with 4401 without a token and 4403 with a bad one", async () => {
    expect(await closeCodeFor({})).toBe(4401);
    expect(await closeCodeFor({ authorization: "Bearer not-a-jwt" })).toBe(4403);
    expect(await closeCodeFor({ authorization: `Bearer ${await signCustomerToken("another-secret-0123456789", "alice")}` })).toBe(4403);
  });

  it("resumes from a cursor: exactly the three changes made while disconnected arrive, in order, then live ones, none twice", async () => {
    const first = await watch("gina");
    const id = await reserve("gina");
    const seen = await settled(id, [first]);
    const cursor = first.rows.find((r) => r.reservationId === id && r.version === seen)!.cursor;
    expect(cursor).toMatch(/^[\w-]+$/);
    expect(first.rows.every((r) => r.id === r.reservationId)).toBe(true);
    await first.close();

    await pay("gina", id); // PAID, then READY when rental has prepared the car
    await eventually(async () => (await committed(id)).status === "READY");
    await mutate("gina", "pickUpCar", id); // PICKED_UP
    await eventually(async () => (await committed(id)).status === "PICKED_UP");
    expect((await committed(id)).version).toBe(seen + 3);

    const resumed = await watch("gina", wsUrl(), undefined, cursor);
    await eventually(async () => resumed.rows.length >= 3);
    expect(resumed.rows.map((r) => [r.version, r.status])).toEqual([[seen + 1, "PAID"], [seen + 2, "READY"], [seen + 3, "PICKED_UP"]]);
    await mutate("gina", "returnCar", id); // and live from there, with no duplicate at the seam
    await eventually(async () => resumed.rows.length >= 4);
    expect(resumed.rows.map((r) => r.version)).toEqual([seen + 1, seen + 2, seen + 3, seen + 4]);
    expect(resumed.rows[3]!.status).toBe("RETURNED");
    expect(resumed.errors).toEqual([]);
    await resumed.close();
  });

  it("refuses a malformed cursor (BAD_USER_INPUT) and one older than the retention (CURSOR_EXPIRED)", async () => {
    const bad = await watch("gina", wsUrl(), undefined, "not-a-cursor");
    const old = await watch("gina", wsUrl(), undefined, Buffer.from("c1:1000-0").toString("base64url"));
    await eventually(async () => bad.errors.length > 0 && old.errors.length > 0);
    expect(bad.errors[0]!.extensions?.code).toBe("BAD_USER_INPUT");
    expect(old.errors[0]!.extensions?.code).toBe("CURSOR_EXPIRED");
    await Promise.all([bad.close(), old.close()]);
  });

  // Each change is resolved once per selection (one gateway operation: reservation, then
  // payment and rental for the nested fields = 3 subgraph queries), however many
  // subscribers share that selection; closed subscriptions cost nothing.
  it("500 subscriptions of one customer cost no more subgraph operations per change than 5; closed ones cost nothing", async () => {
    const sockets = 10;
    const perSocket = 50;
    const baseline = { subscriptions: await routerGauge("live_subscriptions"), customers: await routerGauge("live_followed_customers") };
    const few = await Promise.all(Array.from({ length: 5 }, () => watch("hana")));
    let before = await subgraphQueries();
    const a = await reserve("hana");
    const changesA = await settled(a, few);
    const perChangeWith5 = ((await subgraphQueries()) - before) / changesA;

    const clients = await Promise.all(Array.from({ length: sockets }, async () => {
      const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${await signCustomerToken(JWT_SECRET, "hana")}` } });
      const rows: Row[] = [];
      for (let i = 0; i < perSocket; i++) {
        client.subscribe<{ myReservationChanged: Row }>({ query: SUBSCRIPTION, variables: { id: null, after: null } },
          { next: (r) => { if (r.data) rows.push(r.data.myReservationChanged); }, error: () => {}, complete: () => {} });
      }
      return { client, rows };
    }));
    const many = [...few, ...clients.map((c) => ({ rows: c.rows }))];
    await eventually(async () => (await routerGauge("live_subscriptions")) >= baseline.subscriptions + 505, 60_000);
    before = await subgraphQueries();
    const b = await reserve("hana");
    const changesB = await settled(b, many);
    const perChangeWith500 = ((await subgraphQueries()) - before) / changesB;
    await eventually(async () => clients.every((c) => c.rows.filter((r) => r.reservationId === b).length === perSocket * changesB), 60_000);
    expect(perChangeWith500).toBeLessThanOrEqual(perChangeWith5);
    expect(perChangeWith500).toBeLessThanOrEqual(3);

    await Promise.all(clients.map((c) => c.client.dispose()));
    await Promise.all(few.slice(1).map((w) => w.close()));
    await eventually(async () => (await routerGauge("live_subscriptions")) === baseline.subscriptions + 1, 60_000);
    before = await subgraphQueries();
    await mutate("hana", "cancelReservation", b);
    await eventually(async () => (await committed(b)).status === "CANCELLED", 60_000);
    const changesAfter = await settled(b, [few[0]!]) - changesB;
    const perChangeAfterClosing = ((await subgraphQueries()) - before) / changesAfter;
    console.info(`subgraph queries per change: ${perChangeWith5} with 5 subscribers, ${perChangeWith500} with 500, ${perChangeAfterClosing} after closing 499`);
    expect(perChangeAfterClosing).toBeLessThanOrEqual(3);
    await few[0]!.close();
    await eventually(async () => (await routerGauge("live_followed_customers")) === baseline.customers, 60_000);
  }, 120_000);

  it("caps subscriptions per connection and per customer with LIMIT_EXCEEDED, and closes the socket with 4403 when the token expires", async () => {
    const port = await getPort();
    const capped = await t.stack.startRouterReplica(port, { SUBSCRIPTIONS_PER_CONNECTION: "2", SUBSCRIPTIONS_PER_CUSTOMER: "3" });
    const url = `ws://127.0.0.1:${port}/graphql`;
    try {
      const codes: (string | undefined)[] = [];
      const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${await signCustomerToken(JWT_SECRET, "ivy")}` } });
      for (let i = 0; i < 3; i++) {
        client.subscribe({ query: SUBSCRIPTION, variables: {} }, {
          next: (r) => { for (const e of r.errors ?? []) codes.push(e.extensions?.code as string); },
          error: (e) => { for (const x of (Array.isArray(e) ? e : [])) codes.push(x.extensions?.code); },
          complete: () => {},
        });
      }
      await eventually(async () => codes.length > 0);
      expect(codes).toEqual(["LIMIT_EXCEEDED"]);
      const other = await watch("ivy", url); // the customer's third one is allowed on another connection
      const fourth = await watch("ivy", url);
      await eventually(async () => fourth.errors.length > 0);
      expect(fourth.errors[0]).toMatchObject({ extensions: { code: "LIMIT_EXCEEDED", limit: "SUBSCRIPTIONS_PER_CUSTOMER", max: 3 } });
      expect(other.errors).toEqual([]);
      await Promise.all([client.dispose(), other.close(), fourth.close()]);

      const closes: number[] = [];
      const shortLived = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${await signCustomerToken(JWT_SECRET, "ivy", "2s")}` } });
      shortLived.on("closed", (event) => closes.push((event as { code: number }).code));
      shortLived.subscribe({ query: SUBSCRIPTION, variables: {} }, { next: () => {}, error: () => {}, complete: () => {} });
      await eventually(async () => closes.length > 0, 10_000);
      expect(closes[0]).toBe(4403);
      await shortLived.dispose();
    } finally {
      await capped.stop();
    }
  });
});
