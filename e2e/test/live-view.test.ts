import type { ServiceProcess } from "@rentcar/devstack";
import { signCustomerToken } from "@rentcar/platform";
import { getPort } from "@rentcar/testkit";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually, inDays, JWT_SECRET, startTestStack, type TestStack } from "./support.ts";

let t: TestStack;
let replicaWsUrl: string;
let replica: ServiceProcess;
beforeAll(async () => {
  t = await startTestStack();
  const port = await getPort();
  replica = await t.stack.startRouterReplica(port);
  replicaWsUrl = `ws://127.0.0.1:${port}/graphql`;
}, 120_000);
afterAll(async () => { await t?.close(); });

const wsUrl = () => t.stack.routerUrl.replace(/^http/, "ws");
const SUBSCRIPTION = `subscription($id: ID) { myReservationChanged(reservationId: $id) {
  reservationId status paymentStatus rentalStatus version reservation { id car { model } payment { status } rental { status } }
} }`;

interface Row { reservationId: string; status: string; paymentStatus: string | null; rentalStatus: string | null; version: number; reservation: { car: { model: string } | null } | null }

/** Subscribes as `customer` and collects every delivered row; resolves once the subscription is acknowledged. */
async function watch(customer: string, url = wsUrl(), reservationId?: string) {
  const rows: Row[] = [];
  const closes: number[] = [];
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${await signCustomerToken(JWT_SECRET, customer)}` },
    retryAttempts: 0,
  });
  const connected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
  client.on("closed", (event) => closes.push((event as { code: number }).code));
  client.subscribe<{ myReservationChanged: Row }>({ query: SUBSCRIPTION, variables: { id: reservationId ?? null } }, {
    next: (result) => { if (result.data) rows.push(result.data.myReservationChanged); },
    error: () => {},
    complete: () => {},
  });
  await connected;
  await new Promise((resolve) => setTimeout(resolve, 200)); // the subscribe message is processed after the ack
  return { rows, closes, close: () => client.dispose() };
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
    await eventually(async () => one.rows.length >= 2 && two.rows.length >= 2);
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

  it("closes the socket with 4401 without a token and 4403 with a bad one", async () => {
    expect(await closeCodeFor({})).toBe(4401);
    expect(await closeCodeFor({ authorization: "Bearer not-a-jwt" })).toBe(4403);
    expect(await closeCodeFor({ authorization: `Bearer ${await signCustomerToken("another-secret-0123456789", "alice")}` })).toBe(4403);
  });
});
