import type { SubgraphName } from "@rentcar/devstack";
import pg from "pg";
import type { BenchStack } from "./bench-stack.ts";
import { runLoad, sleep, waitFor } from "./load.ts";
import { commandCpuMs, cpuMs, machineBusyMs } from "./machine.ts";
import { scrape, sumMetric } from "./prometheus.ts";
import { reserveAndPay } from "./saga.ts";

const SUBGRAPHS: SubgraphName[] = ["reservation", "payment", "rental"];

/** What one whole saga (reserve + pay, and every event it causes until the view shows READY) cost. */
export interface SagaCost {
  /** Sagas that completed (reserve and pay answered without error) and settled. */
  sagas: number;
  /** SQL statements sent per saga, by subgraph (the relay's idle polling subtracted). */
  statements: Record<SubgraphName, number>;
  /** Transactions (BEGIN) per saga, by subgraph (idle polling subtracted). */
  transactions: Record<SubgraphName, number>;
  /**
   * CPU time (user + system) per saga, in ms, by process: the router and the subgraphs, plus
   * `postgres` (all its backends), `redis`, `bench` (this load generator) and `machine` (all
   * cores, everything: what bounds sagas/s on this machine). The last four also count whatever
   * else ran on the machine meanwhile.
   */
  cpuMs: Record<string, number>;
  /** How long the last saga's events took to settle after the load stopped, in ms. */
  settleMs: number;
  /** Sagas that did not complete, by error (e.g. `reserveCar OVERLOADED`). */
  errors: Record<string, number>;
}

interface Counters {
  at: number;
  statements: Record<SubgraphName, number>;
  transactions: Record<SubgraphName, number>;
  cpu: Record<string, number>;
}

/**
 * Runs `count` sagas at `concurrency` through the router, waits until every one of them
 * has settled (its read-model row is READY: payment PAID and rental READY, so all events
 * were consumed), and divides what the services spent by the sagas: SQL statements and
 * transactions per subgraph (`db_statements_total`), CPU ms per process (/proc). These are
 * the load-robust figures of the write path: unlike sagas/s they barely move when other
 * work shares the machine. The background relays' polling is measured idle just before
 * and subtracted.
 * @throws Error when the sagas do not settle within `settleTimeoutMs`.
 */
export async function measureSagaCost(stack: BenchStack, options: {
  count: number;
  concurrency: number;
  signal: AbortSignal;
  idleMs: number;
  settleTimeoutMs?: number;
}): Promise<SagaCost> {
  const idleStart = await counters(stack);
  await sleep(options.idleMs, options.signal);
  const idleEnd = await counters(stack);
  const before = await counters(stack);
  const readyBefore = await readyRows(stack);
  let completed = 0;
  const load = await runLoad({
    concurrency: options.concurrency,
    durationMs: 600_000,
    maxRequests: options.count,
    signal: options.signal,
    async task(worker, sequence) {
      const outcome = await reserveAndPay(stack, `bench-cost-${worker}-${sequence}`);
      if (!outcome.error) completed++;
      return outcome.error;
    },
  });
  const loadEnd = performance.now();
  await waitFor(`${completed} sagas to reach READY in the read model`,
    async () => (await readyRows(stack)) - readyBefore >= completed, options.settleTimeoutMs ?? 30_000, options.signal, 100);
  const settleMs = performance.now() - loadEnd;
  const after = await counters(stack);
  const idleSeconds = (idleEnd.at - idleStart.at) / 1000;
  const busySeconds = (after.at - before.at) / 1000;
  const perSaga = (total: number, idle: number) => (completed ? Math.max(0, total - (idle / idleSeconds) * busySeconds) / completed : 0);
  const pick = <K extends string>(keys: K[], get: (c: Counters) => Record<K, number>) =>
    Object.fromEntries(keys.map((k) => [k, perSaga(get(after)[k]! - get(before)[k]!, get(idleEnd)[k]! - get(idleStart)[k]!)])) as Record<K, number>;
  const processes = Object.keys(before.cpu).filter((name) => name in after.cpu);
  return {
    sagas: completed,
    statements: pick(SUBGRAPHS, (c) => c.statements),
    transactions: pick(SUBGRAPHS, (c) => c.transactions),
    cpuMs: pick(processes, (c) => c.cpu),
    settleMs,
    errors: load.errors,
  };
}

async function counters(stack: BenchStack): Promise<Counters> {
  const texts = await Promise.all(SUBGRAPHS.map((name) => scrape(stack.baseUrl(name))));
  const cpu: Record<string, number> = {};
  for (const p of stack.processes()) {
    const ms = cpuMs(p.pid);
    if (ms !== undefined) cpu[p.name] = ms;
  }
  cpu.postgres = commandCpuMs("postgres");
  cpu.redis = commandCpuMs("redis-server");
  const own = process.cpuUsage();
  cpu.bench = (own.user + own.system) / 1000;
  cpu.machine = machineBusyMs();
  return {
    at: performance.now(),
    statements: Object.fromEntries(SUBGRAPHS.map((name, i) => [name, sumMetric(texts[i]!, "db_statements_total")])) as Record<SubgraphName, number>,
    transactions: Object.fromEntries(SUBGRAPHS.map((name, i) => [name, sumMetric(texts[i]!, "db_statements_total", { kind: "begin" })])) as Record<SubgraphName, number>,
    cpu,
  };
}

/** Read-model rows that reached READY (the end of a reserve + pay saga). */
async function readyRows(stack: BenchStack): Promise<number> {
  const client = new pg.Client({ connectionString: stack.databaseUrls.reservation, connectionTimeoutMillis: 5_000, statement_timeout: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM my_reservation WHERE status = 'READY'");
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
