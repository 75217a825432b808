/**
 * `npm run bench`: measures the supergraph through the router with real processes,
 * PostgreSQL and Redis (throw-away databases, free ports). Prints:
 *   - stack start time (migrations + 4 processes until ready);
 *   - reserveCar latency sequential (p50/p95/max) and under concurrency;
 *   - payReservation latency; a federated read (reservation + car + payment);
 *   - saga latency: payment response -> rental READY (median and worst);
 *   - live view: mutation response -> its myReservationChanged message (graphql-ws).
 * Env: BENCH_N (requests per phase, default 200), BENCH_CONCURRENCY (default 20).
 */
import { dropDatabase } from "@rentcar/db";
import { startStack } from "@rentcar/devstack";
import { FLEET } from "@rentcar/domain";
import { signCustomerToken } from "@rentcar/platform";
import { getPort, postGraphQL, uniqueDatabaseUrl } from "@rentcar/testkit";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const N = Number(process.env.BENCH_N ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const JWT_SECRET = "bench-jwt-secret-0123456789abcdef";
const DAY = 86_400_000;

const databaseUrls = { reservation: uniqueDatabaseUrl("reservation"), payment: uniqueDatabaseUrl("payment"), rental: uniqueDatabaseUrl("rental") };
const startedAt = performance.now();
const stack = await startStack({
  ports: { router: await getPort(), reservation: await getPort(), payment: await getPort(), rental: await getPort() },
  databaseUrls,
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  env: { JWT_SECRET, LOG_LEVEL: "warn", QUEUE_PREFIX: `rentcar-bench-${process.pid}` },
});
const startMs = performance.now() - startedAt;
const token = await signCustomerToken(JWT_SECRET, "bench");
const gql = (query: string, variables: Record<string, unknown>) =>
  postGraphQL(stack.routerUrl, query, variables, { authorization: `Bearer ${token}` });

/** Each reservation i takes its own car-day slot so no two requests conflict. */
function slot(i: number) {
  const car = FLEET[i % FLEET.length]!;
  const day = 2 + Math.floor(i / FLEET.length) * 2;
  const start = Math.ceil(Date.now() / DAY) * DAY + day * DAY;
  return { carId: car.id, pickupAt: new Date(start).toISOString(), returnAt: new Date(start + DAY).toISOString() };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await fn();
  return [performance.now() - t0, result];
}

function report(name: string, samples: number[], wallMs?: number) {
  const sorted = [...samples].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  const rate = wallMs ? `, ${(samples.length / (wallMs / 1000)).toFixed(0)} req/s` : "";
  console.log(`${name.padEnd(34)} n=${samples.length} p50=${q(0.5)} ms p95=${q(0.95)} ms max=${sorted.at(-1)!.toFixed(1)} ms${rate}`);
}

const RESERVE = `mutation Reserve($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`;
const PAY = `mutation Pay($input: PayReservationInput!) { payReservation(input: $input) { status } }`;
const READ = `query Read($id: ID!) { reservation(id: $id) { status car { model } payment { status } } }`;
const RENTAL = `query Rental($id: ID!) { reservation(id: $id) { rental { status } } }`;

/**
 * Subscribes through the router and times each reserveCar / payReservation response to
 * the pushed change showing its effect (0 when the push arrived before the response).
 */
async function measureLiveDelay(count: number): Promise<number[]> {
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const client = createClient({ url: stack.routerUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
  client.subscribe<{ myReservationChanged: { reservationId: string; status: string; paymentStatus: string | null } }>(
    { query: "subscription { myReservationChanged { reservationId status paymentStatus } }" },
    {
      next: ({ data }) => {
        const row = data?.myReservationChanged;
        if (!row || (row.status !== "PAID" && row.paymentStatus !== "REQUESTED")) return;
        const key = `${row.reservationId}:${row.status === "PAID" ? "PAID" : "REQUESTED"}`;
        if (arrivals.has(key)) return;
        arrivals.set(key, performance.now());
        waiters.get(key)?.();
      },
      error: () => {},
      complete: () => {},
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  const delays: number[] = [];
  const delayAfter = async (key: string, respondedAt: number) => {
    if (!arrivals.has(key)) await new Promise<void>((resolve) => waiters.set(key, resolve));
    delays.push(Math.max(0, arrivals.get(key)! - respondedAt));
  };
  for (let i = 0; i < count; i++) {
    const res = await gql(RESERVE, { input: slot(3 * N + i) });
    const id = res.data!.reserveCar.id as string;
    await delayAfter(`${id}:REQUESTED`, performance.now());
    await gql(PAY, { input: { reservationId: id, cardNumber: "4242424242424242" } });
    await delayAfter(`${id}:PAID`, performance.now());
  }
  await client.dispose();
  return delays;
}

try {
  const ids: string[] = [];
  const seq: number[] = [];
  for (let i = 0; i < N; i++) {
    const [ms, res] = await timed(() => gql(RESERVE, { input: slot(i) }));
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    ids.push(res.data!.reserveCar.id);
    seq.push(ms);
  }
  const conc: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i += CONCURRENCY) {
    const batch = await Promise.all(Array.from({ length: Math.min(CONCURRENCY, N - i) }, (_, k) =>
      timed(() => gql(RESERVE, { input: slot(N + i + k) }))));
    for (const [ms, res] of batch) {
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      conc.push(ms);
    }
  }
  const concWall = performance.now() - t0;
  const pay: number[] = [];
  for (const id of ids) pay.push((await timed(() => gql(PAY, { input: { reservationId: id, cardNumber: "4242424242424242" } })))[0]);
  const read: number[] = [];
  for (const id of ids) read.push((await timed(() => gql(READ, { id })))[0]);
  // Saga latency: from the payReservation response to the rental being READY (outbox ->
  // BullMQ -> rental consumer), observed by polling through the router every 5 ms.
  const sagaReady: number[] = [];
  for (let i = 0; i < Math.min(N, 100); i++) {
    const res = await gql(RESERVE, { input: slot(2 * N + i) });
    const id = res.data!.reserveCar.id as string;
    await gql(PAY, { input: { reservationId: id, cardNumber: "4242424242424242" } });
    const paidAt = performance.now();
    while ((await gql(RENTAL, { id })).data?.reservation?.rental?.status !== "READY") await new Promise((r) => setTimeout(r, 5));
    sagaReady.push(performance.now() - paidAt);
  }

  // Live view latency: from a mutation's response to the subscription message showing its effect.
  const live = await measureLiveDelay(Math.min(N, 100));

  console.log(`\nstack start (migrate + 4 processes)  ${(startMs / 1000).toFixed(1)} s`);
  report("reserveCar sequential", seq);
  report(`reserveCar ${CONCURRENCY} concurrent`, conc, concWall);
  report("payReservation sequential", pay);
  report("reservation+car+payment read", read);
  report("payment -> rental READY (saga)", sagaReady);
  report("mutation -> subscription message", live);
} finally {
  await stack.stop();
  await Promise.all(Object.values(databaseUrls).map((url) => dropDatabase(url)));
}
