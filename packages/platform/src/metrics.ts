import type { ApolloServerPlugin } from "@apollo/server";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** One Prometheus registry per process, with the GraphQL metrics every service exposes. */
export interface Metrics {
  registry: Registry;
  operations: Counter<"operation" | "type" | "outcome">;
  operationSeconds: Histogram<"operation" | "type">;
  /** SQL statements sent to the service's database, by kind (begin | commit | rollback | other). */
  dbStatements: Counter<"kind">;
  /** Counts one statement by its SQL text: pass as `onStatement` to `createPrismaAdapter`. */
  countStatement(sql: string): void;
  /** Maps a client-chosen operation name to a bounded label value (see {@link operationLabels}). */
  operationLabel(name: string | null | undefined): string;
}

/** Label of every operation name outside the bounded set. */
export const OTHER_OPERATION_LABEL = "other";
/** Label of operations sent without a name. */
export const ANONYMOUS_OPERATION_LABEL = "anonymous";
/** Default number of distinct operation names that get a label of their own. */
export const DEFAULT_MAX_OPERATION_LABELS = 100;

const LABEL_SHAPE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Bounds the `operation` label: operation names are chosen by clients, so each distinct
 * one would be a new time series (memory and `/metrics` size growing without limit).
 * The first `max` well-formed names (<= 64 characters, GraphQL name syntax) keep their
 * own label; every other name folds into {@link OTHER_OPERATION_LABEL}.
 */
export function operationLabels(max = DEFAULT_MAX_OPERATION_LABELS): (name: string | null | undefined) => string {
  const known = new Set<string>();
  return (name) => {
    if (!name) return ANONYMOUS_OPERATION_LABEL;
    if (known.has(name)) return name;
    if (known.size >= max || !LABEL_SHAPE.test(name)) return OTHER_OPERATION_LABEL;
    known.add(name);
    return name;
  };
}

/**
 * Creates the registry with Node default metrics, labelled `service`.
 * @param maxOperationLabels distinct operation names with a label of their own (default 100).
 */
export function createMetrics(service: string, maxOperationLabels = DEFAULT_MAX_OPERATION_LABELS): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const operations = new Counter({
    name: "graphql_operations_total",
    help: "GraphQL operations handled, by operation name, type and outcome (ok | error)",
    labelNames: ["operation", "type", "outcome"] as const,
    registers: [registry],
  });
  const operationSeconds = new Histogram({
    name: "graphql_operation_duration_seconds",
    help: "GraphQL operation latency in seconds, by operation name and type",
    labelNames: ["operation", "type"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const dbStatements = new Counter({
    name: "db_statements_total",
    help: "SQL statements sent to this service's database, by kind (begin | commit | rollback | other)",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const byKind = { begin: dbStatements.labels("begin"), commit: dbStatements.labels("commit"), rollback: dbStatements.labels("rollback"), other: dbStatements.labels("other") };
  const countStatement = (sql: string) => {
    const word = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase();
    (word === "begin" || word === "commit" || word === "rollback" ? byKind[word] : byKind.other).inc();
  };
  return { registry, operations, operationSeconds, dbStatements, countStatement, operationLabel: operationLabels(maxOperationLabels) };
}

/** Apollo plugin counting every operation and observing its latency. */
export function metricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const startedAt = process.hrtime.bigint();
      return {
        async willSendResponse(ctx) {
          const operation = metrics.operationLabel(ctx.operationName);
          const type = ctx.operation?.operation ?? "unknown";
          const body = ctx.response.body;
          const failed = (ctx.errors?.length ?? 0) > 0 ||
            (body.kind === "single" && (body.singleResult.errors?.length ?? 0) > 0);
          metrics.operations.inc({ operation, type, outcome: failed ? "error" : "ok" });
          metrics.operationSeconds.observe({ operation, type }, Number(process.hrtime.bigint() - startedAt) / 1e9);
        },
      };
    },
  };
}
