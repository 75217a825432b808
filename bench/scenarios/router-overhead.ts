import { compareInterleaved } from "../src/compare.ts";
import { errorCodeOf } from "../src/http.ts";
import { cpuMs } from "../src/machine.ts";
import { scrape, sumMetric } from "../src/prometheus.ts";
import type { Scenario, ScenarioContext } from "../src/scenario.ts";

const CARS = "{ cars { id model dailyRate } }";

/**
 * `cars` straight to the rental subgraph (with an internal token, as the router sends)
 * versus through the router, interleaved at 10 connections: the router's cost per request.
 */
export const scenario: Scenario = {
  name: "router-overhead",
  title: "cars direct to rental vs through the router (10 connections, interleaved)",
  budgetMs: 60_000,
  async run(ctx) {
    const { stack } = ctx;
    const rental = stack.client(stack.subgraphUrls.rental);
    // One token for the whole run: the baseline is the subgraph's own cost.
    const internal = await stack.internalAuth();
    const before = await scrape(stack.baseUrl("router"));
    const routerCpu = cpuPerRequest(stack.processes().find((p) => p.name === "router")?.pid);
    const figures = await compareInterleaved(ctx, "cars", {
      rounds: 3,
      durationMs: ctx.pick(8_000, 500),
      concurrency: 10,
    }, {
      direct: async () => errorCodeOf(await rental.post(CARS, {}, internal)),
      router: async () => { routerCpu.count(); return errorCodeOf(await stack.router.post(CARS)); },
    });
    // Load-robust: the router's own CPU per request it served (it is idle during the direct rounds).
    routerCpu.record(ctx, "cars router CPU per request");
    ctx.record("cars router/direct throughput", round2(figures.router!.throughput / figures.direct!.throughput), "ratio");
    ctx.record("cars router/direct p50", round2(figures.router!.p50 / figures.direct!.p50), "ratio");
    recordFetchSharing(ctx, "cars", before, await scrape(stack.baseUrl("router")));
  },
};

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Counts requests and records the CPU ms of process `pid` per request counted since creation. */
export function cpuPerRequest(pid: number | undefined) {
  const start = pid === undefined ? undefined : cpuMs(pid);
  let requests = 0;
  return {
    count: () => { requests++; },
    record(ctx: ScenarioContext, name: string): void {
      const end = pid === undefined ? undefined : cpuMs(pid);
      if (start !== undefined && end !== undefined && requests > 0) ctx.record(name, Math.round((100 * (end - start)) / requests) / 100, "ms");
    },
  };
}

/**
 * What the router's in-flight deduplication (SUBGRAPH_DEDUP) and query plan cache did
 * between two scrapes of its /metrics: the share of subgraph fetches answered by an
 * identical one in flight, and the plan cache hit rate. Recorded only when the router has them.
 */
export function recordFetchSharing(ctx: ScenarioContext, label: string, before: string, after: string): void {
  const delta = (metric: string, labels: Record<string, string> = {}) => sumMetric(after, metric, labels) - sumMetric(before, metric, labels);
  const sent = delta("subgraph_fetches_total");
  const shared = delta("subgraph_fetches_deduplicated_total");
  if (sent + shared > 0) ctx.record(`${label} subgraph fetches shared (deduplicated)`, Math.round((1000 * shared) / (sent + shared)) / 10, "%");
  const hits = delta("query_plan_cache_requests_total", { result: "hit" });
  const misses = delta("query_plan_cache_requests_total", { result: "miss" });
  if (hits + misses > 0) ctx.record(`${label} query plan cache hits`, Math.round((1000 * hits) / (hits + misses)) / 10, "%");
}
