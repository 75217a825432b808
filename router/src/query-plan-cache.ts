import type { GatewayConfig } from "@apollo/gateway";
import { LRUCache } from "lru-cache";
import { Counter, Gauge, type Registry } from "prom-client";

type QueryPlanCache = NonNullable<NonNullable<GatewayConfig["queryPlannerConfig"]>["cache"]>;
type QueryPlan = NonNullable<Awaited<ReturnType<QueryPlanCache["get"]>>>;

/**
 * The gateway's query plan cache, sized by QUERY_PLAN_CACHE_MB and measured. It is what
 * `@apollo/gateway` builds by default (an LRU bounded by the plans' JSON size, there 30 MiB,
 * cleared when the supergraph changes), plus `query_plan_cache_requests_total{result}`
 * (hit / miss: every miss is a planning, milliseconds of CPU for a nested query) and
 * `query_plan_cache_plans` / `query_plan_cache_bytes`. A plan is keyed by the document's
 * hash (and operation name), so the cache holds one entry per distinct operation text.
 */
export function queryPlanCache(maxMegabytes: number, registry: Registry): QueryPlanCache {
  const cache = new LRUCache<string, QueryPlan>({
    maxSize: maxMegabytes * 2 ** 20,
    // The gateway's own estimate (approximateObjectSize); a plan larger than the whole cache is not kept.
    sizeCalculation: (plan) => Math.max(1, Buffer.byteLength(JSON.stringify(plan), "utf8")),
  });
  const requests = new Counter({
    name: "query_plan_cache_requests_total",
    help: "Query plan cache lookups of the gateway, by result (hit, miss = planned)",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "query_plan_cache_plans",
    help: "Query plans held by the gateway's cache",
    registers: [registry],
    collect() { this.set(cache.size); },
  });
  new Gauge({
    name: "query_plan_cache_bytes",
    help: "Approximate size of the query plans held (JSON bytes), at most QUERY_PLAN_CACHE_MB",
    registers: [registry],
    collect() { this.set(cache.calculatedSize); },
  });
  return {
    async get(key: string): Promise<QueryPlan | undefined> {
      const plan = cache.get(key);
      requests.inc({ result: plan ? "hit" : "miss" });
      return plan;
    },
    async set(key: string, plan: QueryPlan): Promise<void> {
      cache.set(key, plan);
    },
    async delete(key: string): Promise<boolean> {
      return cache.delete(key);
    },
    clear(): void {
      cache.clear();
    },
  };
}
