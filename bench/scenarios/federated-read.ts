import type { SubgraphName } from "@rentcar/devstack";
import { paidReservations } from "../src/fixtures.ts";
import { errorCodeOf } from "../src/http.ts";
import { sleep } from "../src/load.ts";
import { scrape, sumMetric } from "../src/prometheus.ts";
import type { Scenario, ScenarioContext } from "../src/scenario.ts";
import { summarize } from "../src/stats.ts";

const SUBGRAPHS: SubgraphName[] = ["reservation", "payment", "rental"];
const CUSTOMER = "bench-read";
const QUERY = "query Mine($first: Int) { myReservations(first: $first) { reservationId status reservation { id amount car { model } payment { status } rental { status } } } }";

/**
 * The federated read `myReservations(first: N) { reservation { car payment rental } }` for
 * 10 and 50 rows: per request, the SQL statements and transactions each subgraph sent
 * (`db_statements_total`, minus what its background relay sends in the same time, measured
 * idle just before) and the subgraph fetches the router made (`graphql_operations_total`
 * of the subgraphs). Constant counts for 10 and 50 rows mean no N+1.
 */
export const scenario: Scenario = {
  name: "federated-read",
  title: "myReservations(10 / 50) nested: SQL statements and subgraph fetches per request",
  budgetMs: 90_000,
  async run(ctx) {
    const { stack } = ctx;
    await paidReservations(stack, CUSTOMER, ctx.pick(50, 12), ctx.signal);
    const auth = await stack.auth(CUSTOMER);
    for (const rows of [10, 50]) {
      const requests = ctx.pick(100, 5);
      // Idle baseline over a window as long as the measured one is expected to be.
      const idle = await counters(ctx);
      const idleStart = performance.now();
      await sleep(ctx.pick(3_000, 500), ctx.signal);
      const idleEnd = await counters(ctx);
      const idleMs = performance.now() - idleStart;
      const latencies: number[] = [];
      const before = await counters(ctx);
      const t0 = performance.now();
      for (let i = 0; i < requests && !ctx.signal.aborted; i++) {
        const s = performance.now();
        const reply = await stack.router.post(QUERY, { first: rows }, auth);
        latencies.push(performance.now() - s);
        const code = errorCodeOf(reply);
        if (code) ctx.error(`myReservations(${rows}): ${code}`);
      }
      const busyMs = performance.now() - t0;
      const after = await counters(ctx);
      for (const name of SUBGRAPHS) {
        const background = ((idleEnd[name].statements - idle[name].statements) / idleMs) * busyMs;
        const backgroundTx = ((idleEnd[name].transactions - idle[name].transactions) / idleMs) * busyMs;
        ctx.record(`${rows} rows: ${name} SQL statements/request`, round1(Math.max(0, after[name].statements - before[name].statements - background) / requests), "statements");
        ctx.record(`${rows} rows: ${name} transactions/request`, round1(Math.max(0, after[name].transactions - before[name].transactions - backgroundTx) / requests), "transactions");
        ctx.record(`${rows} rows: ${name} fetches/request`, round1((after[name].fetches - before[name].fetches) / requests), "fetches");
      }
      const s = summarize(latencies);
      ctx.record(`${rows} rows: latency p50 (sequential)`, s.p50, "ms");
      ctx.record(`${rows} rows: latency p99 (sequential)`, s.p99, "ms");
    }
  },
};

type Counters = Record<SubgraphName, { statements: number; transactions: number; fetches: number }>;

async function counters(ctx: ScenarioContext): Promise<Counters> {
  const texts = await Promise.all(SUBGRAPHS.map((name) => scrape(ctx.stack.baseUrl(name))));
  return Object.fromEntries(SUBGRAPHS.map((name, i) => [name, {
    statements: sumMetric(texts[i]!, "db_statements_total"),
    transactions: sumMetric(texts[i]!, "db_statements_total", { kind: "begin" }),
    fetches: sumMetric(texts[i]!, "graphql_operations_total"),
  }])) as Counters;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
