import WebSocket from "ws";
import pg from "pg";
import { rssMb } from "../src/machine.ts";
import { RESERVE } from "../src/saga.ts";
import { errorCodeOf } from "../src/http.ts";
import type { BenchStack } from "../src/bench-stack.ts";
import type { Scenario, ScenarioContext } from "../src/scenario.ts";
import { summarize } from "../src/stats.ts";

/** Each subscriber selects a nested field, so every change costs a gateway operation unless it is shared. */
const SUBSCRIPTION = "subscription Fanout { myReservationChanged { reservationId version updatedAt reservation { car { model } } } }";
const OPEN_TIMEOUT_MS = 60_000;
const DELIVERY_TIMEOUT_MS = 120_000;

interface Subscriber {
  customerId: string;
  socket: WebSocket;
  /** `reservationId:version` -> arrival (Date.now(), ms) */
  received: Map<string, number>;
  /** Delivery delays (arrival - the change's updatedAt), ms. */
  delays: number[];
  duplicates: number;
}

/**
 * Live fan-out at scale (issue "live status at scale"): `customers` x `perCustomer`
 * graphql-ws connections on one router, one subscription each; then one reservation per
 * customer (each produces its changes: RESERVED, payment registered, ...). Reports
 * delivery delay (arrival - the change's commit time) p50/p99/max, messages lost
 * (expected = subscribers x committed versions; must be 0), duplicates, subgraph query
 * operations per change (must not grow with subscribers per customer), router RSS per
 * connection and router RSS after every subscriber left, relative to before.
 */
export const scenario: Scenario = {
  name: "subscription-fanout",
  title: "10,000 subscriptions (1,000 customers x 10) on one router: delivery delay, losses, subgraph operations per change, RSS",
  budgetMs: 600_000,
  async run(ctx) {
    const { stack } = ctx;
    const customers = ctx.pick(1_000, 10);
    const perCustomer = ctx.pick(10, 3);
    const router = stack.processes().find((p) => p.name === "router")!;
    const rssBefore = rssMb(router.pid) ?? Number.NaN;
    const heapBefore = await routerHeapMb(stack);

    ctx.log(`opening ${customers * perCustomer} connections...`);
    const subscribers: Subscriber[] = [];
    ctx.cleanup.add("close the fan-out sockets", async () => { for (const s of subscribers) s.socket.terminate(); });
    const ids = Array.from({ length: customers }, (_, i) => `fanout-${i}`);
    for (let i = 0; i < ids.length && !ctx.signal.aborted; i += 50) {
      const batch = ids.slice(i, i + 50).flatMap((customerId) => Array.from({ length: perCustomer }, () => customerId));
      subscribers.push(...await Promise.all(batch.map((customerId) => open(stack, customerId, ctx))));
    }
    await waitFor(async () => (await routerGauge(stack, "live_subscriptions")) >= subscribers.length, OPEN_TIMEOUT_MS, "every subscription registered");
    const rssOpen = rssMb(router.pid) ?? Number.NaN;
    ctx.record("connections", subscribers.length, "count");
    ctx.record("router RSS before", rssBefore, "MB");
    ctx.record("router RSS with subscribers", rssOpen, "MB");
    ctx.record("router RSS per connection", Math.round(((rssOpen - rssBefore) * 1024 / subscribers.length) * 10) / 10, "KB");

    const queriesBefore = await subgraphQueries(stack);
    const gatewayBefore = await routerGauge(stack, "live_gateway_operations");
    ctx.log(`one reservation per customer (${customers})...`);
    const reservations = new Map<string, string>();
    for (let i = 0; i < ids.length && !ctx.signal.aborted; i += 20) {
      await Promise.all(ids.slice(i, i + 20).map(async (customerId) => {
        const reply = await stack.router.post<{ reserveCar: { id: string } }>(RESERVE, { input: stack.nextSlot() }, await stack.auth(customerId), 30_000);
        const code = errorCodeOf(reply);
        if (code) ctx.error(`reserveCar ${code}`);
        else reservations.set(customerId, reply.data!.reserveCar.id);
      }));
    }
    // Expected: every committed version of each reservation, at every subscriber of its customer.
    const versions = async () => committedVersions(stack, [...reservations.values()]);
    let expected = new Map<string, number>();
    const delivered = () => subscribers.every((s) => {
      const id = reservations.get(s.customerId);
      const last = id ? expected.get(id) : undefined;
      return !id || (last !== undefined && Array.from({ length: last }, (_, v) => `${id}:${v + 1}`).every((key) => s.received.has(key)));
    });
    await waitFor(async () => {
      expected = await versions();
      // reserveCar commits one version (RESERVED with payment REQUESTED, written with the registration).
      return expected.size === reservations.size && [...expected.values()].every((v) => v >= 1) && delivered();
    }, DELIVERY_TIMEOUT_MS, "every change delivered to every subscriber").catch((error: Error) => ctx.error(error.message));
    expected = await versions();
    const changes = [...expected.values()].reduce((n, v) => n + v, 0);
    let lost = 0;
    for (const s of subscribers) {
      const id = reservations.get(s.customerId);
      if (!id) continue;
      for (let v = 1; v <= (expected.get(id) ?? 0); v++) if (!s.received.has(`${id}:${v}`)) lost++;
    }
    const delays = summarize(subscribers.flatMap((s) => s.delays));
    ctx.record("changes committed", changes, "count");
    ctx.record("messages delivered", subscribers.reduce((n, s) => n + s.received.size, 0), "count");
    ctx.record("messages lost", lost, "count");
    ctx.record("duplicate messages", subscribers.reduce((n, s) => n + s.duplicates, 0), "count");
    ctx.record("delivery delay p50", delays.p50, "ms");
    ctx.record("delivery delay p99", delays.p99, "ms");
    ctx.record("delivery delay max", delays.max, "ms");
    ctx.record("subgraph queries per change", round(((await subgraphQueries(stack)) - queriesBefore) / Math.max(changes, 1)), "ratio");
    ctx.record("gateway operations per change", round(((await routerGauge(stack, "live_gateway_operations")) - gatewayBefore) / Math.max(changes, 1)), "ratio");
    if (lost > 0) ctx.error("messages lost", lost);

    ctx.log("closing every connection...");
    for (const s of subscribers) s.socket.close();
    await waitFor(async () => (await routerGauge(stack, "live_subscriptions")) === 0, OPEN_TIMEOUT_MS, "every subscription released")
      .catch((error: Error) => ctx.error(error.message));
    // RSS needs a few seconds (and a GC) to come down; give it up to 30 s.
    let rssAfter = Number.NaN;
    await waitFor(async () => {
      rssAfter = rssMb(router.pid) ?? Number.NaN;
      return rssAfter <= rssBefore * 1.1;
    }, 30_000, "router RSS back within 10 % of before").catch(() => {});
    ctx.record("router RSS after subscribers left", rssAfter, "MB");
    ctx.record("router RSS after / before", round(rssAfter / rssBefore), "ratio");
    // RSS is a high-water mark (V8 and malloc keep freed pages); the JS heap in use shows whether anything is still held.
    ctx.record("router JS heap used before", heapBefore, "MB");
    ctx.record("router JS heap used after subscribers left", await routerHeapMb(stack), "MB");
    ctx.record("followed customers after leaving", await routerGauge(stack, "live_followed_customers"), "count");
  },
};

const round = (n: number) => Math.round(n * 100) / 100;

/** One graphql-transport-ws connection with one subscription, spoken by hand (lighter than a client library). */
async function open(stack: BenchStack, customerId: string, ctx: ScenarioContext): Promise<Subscriber> {
  const { authorization } = await stack.auth(customerId);
  const socket = new WebSocket(stack.routerUrl.replace(/^http/, "ws"), "graphql-transport-ws");
  const subscriber: Subscriber = { customerId, socket, received: new Map(), delays: [], duplicates: 0 };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection of ${customerId} not acknowledged within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } })));
    socket.on("error", (error) => { clearTimeout(timer); reject(error); });
    socket.on("close", (code) => { clearTimeout(timer); reject(new Error(`socket closed with ${code} before the ack`)); });
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { myReservationChanged?: { reservationId: string; version: number; updatedAt: string } }; errors?: { message: string }[] } };
      if (message.type === "connection_ack") {
        clearTimeout(timer);
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: SUBSCRIPTION } }));
        resolve();
      } else if (message.type === "next") {
        const row = message.payload?.data?.myReservationChanged;
        if (message.payload?.errors?.length) ctx.error(`subscription error: ${message.payload.errors[0]!.message}`);
        if (!row) return;
        const key = `${row.reservationId}:${row.version}`;
        if (subscriber.received.has(key)) subscriber.duplicates++;
        const now = Date.now();
        subscriber.received.set(key, now);
        subscriber.delays.push(Math.max(0, now - Date.parse(row.updatedAt)));
      } else if (message.type === "error") {
        ctx.error(`subscription refused: ${JSON.stringify(message.payload).slice(0, 120)}`);
      }
    });
  });
  socket.removeAllListeners("close");
  socket.on("close", (code) => { if (code !== 1000 && code !== 1005) ctx.error(`socket closed with ${code}`); });
  return subscriber;
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

async function routerGauge(stack: BenchStack, name: string): Promise<number> {
  const text = await (await fetch(`${stack.baseUrl("router")}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").at(-1)) : Number.NaN;
}

/** The router's V8 heap in use (prom-client's nodejs_heap_size_used_bytes), MB. */
async function routerHeapMb(stack: BenchStack): Promise<number> {
  return round((await routerGauge(stack, "nodejs_heap_size_used_bytes")) / 1_048_576);
}

/** Query operations served by the three subgraphs so far (graphql_operations_total{type="query"}). */
async function subgraphQueries(stack: BenchStack): Promise<number> {
  let total = 0;
  for (const service of ["reservation", "payment", "rental"] as const) {
    const text = await (await fetch(`${stack.baseUrl(service)}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (line.startsWith("graphql_operations_total{") && line.includes('type="query"')) total += Number(line.split(" ").at(-1));
    }
  }
  return total;
}

/** The read model's committed version of each reservation (straight from the database). */
async function committedVersions(stack: BenchStack, reservationIds: string[]): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: stack.databaseUrls.reservation });
  await client.connect();
  try {
    const { rows } = await client.query<{ reservation_id: string; version: number }>(
      "SELECT reservation_id, version FROM my_reservation WHERE reservation_id = ANY($1::uuid[])", [reservationIds]);
    return new Map(rows.map((r) => [r.reservation_id, Number(r.version)]));
  } finally {
    await client.end();
  }
}
