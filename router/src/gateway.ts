import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import type { Logger } from "@rentcar/platform";
import type { Registry } from "prom-client";
import { subgraphTimeoutMs, type RouterEnv } from "./env.ts";
import { queryPlanCache } from "./query-plan-cache.ts";
import { SubgraphDataSource, subgraphCircuitGauge, subgraphFetchCounters } from "./subgraph-data-source.ts";
import { SUBGRAPHS, type SubgraphEndpoint } from "./subgraphs.ts";

export interface RouterGateway {
  gateway: ApolloGateway;
  /** The data source of each subgraph, by name (breaker states for readiness; closed on shutdown). */
  dataSources: Map<string, SubgraphDataSource>;
}

/**
 * The federation gateway over the committed supergraph (no introspection at run time).
 * Each subgraph is reached through its own {@link SubgraphDataSource} (deadline, circuit
 * breaker, bounded keep-alive pool); each call carries the request id and an internal
 * token naming the customer, signed with INTERNAL_SECRET: subgraphs trust only that,
 * never client headers. Identical query fetches in flight are shared (SUBGRAPH_DEDUP), and
 * query plans are cached in a measured LRU of QUERY_PLAN_CACHE_MB (query-plan-cache.ts).
 */
export function createGateway(env: RouterEnv, log: Logger, registry: Registry): RouterGateway {
  const overrides = new Map(SUBGRAPHS.map((s) => [s.name, env[s.urlEnv]]));
  const dataSources = new Map<string, SubgraphDataSource>();
  const circuitGauge = subgraphCircuitGauge(registry);
  const fetchCounters = subgraphFetchCounters(registry);
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(env.SUPERGRAPH_PATH, "utf8"),
    queryPlannerConfig: { cache: queryPlanCache(env.QUERY_PLAN_CACHE_MB, registry) },
    buildService: ({ name, url }) => {
      const source = new SubgraphDataSource({
        name,
        url: overrides.get(name as SubgraphEndpoint["name"]) ?? url!,
        timeoutMs: subgraphTimeoutMs(env, name as SubgraphEndpoint["name"]),
        breakerThreshold: env.SUBGRAPH_BREAKER_THRESHOLD,
        halfOpenAfterMs: env.SUBGRAPH_BREAKER_HALF_OPEN_MS,
        maxSockets: env.SUBGRAPH_MAX_SOCKETS,
        internalSecret: env.INTERNAL_SECRET,
        log: log.child({ component: "subgraph-data-source" }),
        circuitGauge,
        deduplicate: env.SUBGRAPH_DEDUP,
        fetchCounters,
      });
      dataSources.set(name, source);
      return source;
    },
  });
  return { gateway, dataSources };
}
