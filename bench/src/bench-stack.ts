import { randomBytes } from "node:crypto";
import { databaseNameOf, dropDatabase } from "@rentcar/db";
import { startStack, type Stack, type SubgraphName } from "@rentcar/devstack";
import { FLEET } from "@rentcar/domain";
import { signCustomerToken, signInternalToken, INTERNAL_TOKEN_HEADER } from "@rentcar/platform";
import { getPort, uniqueDatabaseUrl } from "@rentcar/testkit";
import { Redis } from "ioredis";
import type { Cleanup } from "./cleanup.ts";
import { graphqlClient, type GraphQLHttpClient } from "./http.ts";

/** Secrets of the bench stack (throw-away, never used elsewhere). */
export const BENCH_JWT_SECRET = "bench-jwt-secret-0123456789abcdef";
export const BENCH_INTERNAL_SECRET = "bench-internal-secret-0123456789";

/** A process whose memory and CPU the bench reports. */
export interface MeasuredProcess {
  name: string;
  pid: number;
}

/** A non-overlapping rental slot: one hour on one car (billed as one day). */
export interface Slot {
  carId: string;
  pickupAt: string;
  returnAt: string;
}

/** The supergraph under test plus what scenarios need to drive it. */
export interface BenchStack {
  stack: Stack;
  routerUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** Base URL (`http://127.0.0.1:<port>`) of a service, for `/metrics`. */
  baseUrl(service: SubgraphName | "router"): string;
  databaseUrls: Record<SubgraphName, string>;
  queuePrefix: string;
  redisUrl: string;
  /** A keep-alive client for the router. */
  router: GraphQLHttpClient;
  /** A keep-alive client for any URL (one per URL, closed with the stack). */
  client(url: string): GraphQLHttpClient;
  /** `authorization` header of a customer (tokens cached). */
  auth(customerId: string): Promise<Record<string, string>>;
  /** Internal-token header for calling a subgraph directly, as the router does. */
  internalAuth(customerId?: string): Promise<Record<string, string>>;
  /** A fresh slot no other call of this run gets (optionally on a given car). */
  nextSlot(carId?: string): Slot;
  /** Router, subgraphs and any process a scenario registered (e.g. a peer gateway). */
  processes(): MeasuredProcess[];
  /** Adds a process to the measured ones; the returned function removes it (call it when the process stops). */
  addProcess(process: MeasuredProcess): () => void;
}

const HOUR = 3_600_000;

/**
 * Starts router + subgraphs as real processes on free ports, each subgraph on a fresh
 * database of the machine's PostgreSQL (`rentcar_test_*`), events under a unique Redis
 * prefix. Registers in `cleanup`: stopping the services, dropping the databases and
 * deleting every Redis key under the prefix.
 */
export async function startBenchStack(options: {
  cleanup: Cleanup;
  env?: Record<string, string>;
  onLine?(service: string, line: string): void;
  /** Told what will be created (before anything is), so an operator can check the cleanup. */
  onCreated?(created: { databases: string[]; queuePrefix: string }): void;
}): Promise<BenchStack> {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const queuePrefix = `rentcar-bench-${randomBytes(4).toString("hex")}`;
  const databaseUrls = { reservation: uniqueDatabaseUrl("reservation"), payment: uniqueDatabaseUrl("payment"), rental: uniqueDatabaseUrl("rental") };
  const clients = new Map<string, GraphQLHttpClient>();
  options.onCreated?.({ databases: Object.values(databaseUrls).map(databaseNameOf), queuePrefix });
  // Registered before starting, so a Ctrl-C during start-up still drops and deletes everything.
  options.cleanup.add("delete the bench Redis keys", () => deleteKeys(redisUrl, queuePrefix));
  options.cleanup.add("drop the bench databases", () => Promise.all(Object.values(databaseUrls).map((url) => dropDatabase(url))));
  const ports = { router: await getPort(), reservation: await getPort(), payment: await getPort(), rental: await getPort() };
  const starting = startStack({
    ports,
    databaseUrls,
    redisUrl,
    // Measure what production runs: Node's own type stripping (the image's `node router/src/main.ts`), not tsx.
    // BENCH_NODE_ARGS adds flags for a profiling run, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (docs/performance.md).
    nodeArgs: (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean),
    // Load clients reserve again before PaymentCompleted reached reservation, and the router's per-customer rate
    // limits (README "Security model") would cap the load: neither the hold limit nor the rate limits are what is measured.
    env: {
      JWT_SECRET: BENCH_JWT_SECRET, INTERNAL_SECRET: BENCH_INTERNAL_SECRET, LOG_LEVEL: "warn", NODE_ENV: "production", QUEUE_PREFIX: queuePrefix,
      MAX_UNPAID_HOLDS: "1000000", RATE_LIMIT_REQUESTS: "1000000000", RATE_LIMIT_MUTATIONS: "1000000000", ...options.env,
    },
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  // Stopping waits for a start in progress (each service start is bounded by its readiness timeout).
  options.cleanup.add("stop the services", async () => (await starting.catch(() => undefined))?.stop());
  options.cleanup.add("close bench HTTP clients", () => Promise.all([...clients.values()].map((c) => c.close())));
  const stack = await starting;
  const extra: MeasuredProcess[] = [];
  const tokens = new Map<string, Promise<string>>();
  const internalTokens = new Map<string, { token: string; at: number }>();
  const client = (url: string) => {
    let c = clients.get(url);
    if (!c) clients.set(url, (c = graphqlClient(url)));
    return c;
  };
  let slotCounter = 0;
  const perCar = new Map<string, number>();
  // Slots start tomorrow on a whole hour; hour k of car i never overlaps another slot.
  const base = Math.ceil(Date.now() / HOUR) * HOUR + 24 * HOUR;
  return {
    stack,
    routerUrl: stack.routerUrl,
    subgraphUrls: stack.subgraphUrls,
    baseUrl: (service) => `http://127.0.0.1:${ports[service]}`,
    databaseUrls,
    queuePrefix,
    redisUrl,
    router: client(stack.routerUrl),
    client,
    async auth(customerId) {
      if (!tokens.has(customerId)) tokens.set(customerId, signCustomerToken(BENCH_JWT_SECRET, customerId));
      return { authorization: `Bearer ${await tokens.get(customerId)}` };
    },
    async internalAuth(customerId) {
      // Internal tokens live 60 s: re-sign after 30 s so a long scenario never sends an expired one.
      const key = customerId ?? "";
      const cached = internalTokens.get(key);
      if (cached && Date.now() - cached.at < 30_000) return { [INTERNAL_TOKEN_HEADER]: cached.token };
      const token = await signInternalToken(BENCH_INTERNAL_SECRET, { issuer: "router", ...(customerId ? { customerId } : {}) });
      internalTokens.set(key, { token, at: Date.now() });
      return { [INTERNAL_TOKEN_HEADER]: token };
    },
    nextSlot(carId) {
      const car = carId ?? FLEET[slotCounter++ % FLEET.length]!.id;
      const k = perCar.get(car) ?? 0;
      perCar.set(car, k + 1);
      const pickupAt = base + k * HOUR;
      return { carId: car, pickupAt: new Date(pickupAt).toISOString(), returnAt: new Date(pickupAt + HOUR).toISOString() };
    },
    processes: () => [
      ...stack.services.filter((s) => s.child.pid !== undefined && s.child.exitCode === null).map((s) => ({ name: s.name, pid: s.child.pid! })),
      ...extra,
    ],
    addProcess: (p) => {
      extra.push(p);
      return () => { extra.splice(extra.indexOf(p), 1); };
    },
  };
}

/** Deletes every key under `prefix` (BullMQ queues, change logs) with SCAN + UNLINK; resolves with the count. */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Number of Redis keys under `prefix` (the cleanup check of the smoke test). */
export async function countKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 3_000 });
  redis.on("error", () => {});
  try {
    let count = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== "0");
    return count;
  } finally {
    redis.disconnect();
  }
}
