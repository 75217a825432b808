import { dirname, posix } from "node:path";
import { isMap, objectId, type JsonMap, type KubeObject } from "../kube-object.ts";
import { effectiveEnv, type EnvValue, type SecretCatalog } from "./container-env.ts";
import { ofKind, selectorMatches, workloadsOf, type Workload } from "./workloads.ts";

/** What one deployable must look like (the service contract of the image). */
export interface Deployable {
  name: "router" | "reservation" | "payment" | "rental";
  port: number;
  entry: string;
  /** Variables that must come from a Secret. */
  secretEnv: string[];
  /** Variables with a fixed value (from the ConfigMaps). */
  valueEnv: Record<string, string>;
  /** Variables that must hold the URL of an in-cluster Service. */
  serviceUrlEnv: string[];
  /**
   * Every variable the service reads (its zod env schema): anything else set on the
   * container is a typo or a leftover, which the service would silently ignore and
   * run on the default instead.
   */
  knownEnv: string[];
}

const COMMON_SECRET_ENV = ["REDIS_URL", "INTERNAL_SECRET"];
const COMMON_VALUE_ENV = { NODE_ENV: "production", LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: "10000" };
/** packages/platform baseEnvSchema + PORT. */
const BASE_ENV = ["PORT", "NODE_ENV", "LOG_LEVEL", "REDIS_URL", "INTERNAL_SECRET", "SHUTDOWN_TIMEOUT_MS", "SHUTDOWN_DELAY_MS", "QUEUE_PREFIX", "EVENT_LOCK_MS", "CHANGE_LOG_RETENTION",
  "ADMISSION_MAX_CONCURRENT", "ADMISSION_MAX_QUEUED", "ADMISSION_MAX_QUEUE_WAIT_MS", "ADMISSION_RETRY_AFTER_S"];
/** packages/platform subgraphEnvSchema. */
const SUBGRAPH_ENV = [...BASE_ENV, "DATABASE_URL", "DATABASE_POOL_MAX", "DATABASE_POOL_TIMEOUT_MS", "DATABASE_TX_MAX_WAIT_MS", "DATABASE_TX_TIMEOUT_MS"];

/** Numeric settings and the smallest value the services accept (their zod schemas). */
export const NUMERIC_ENV: Readonly<Record<string, number>> = {
  PORT: 1,
  SHUTDOWN_TIMEOUT_MS: 1,
  SHUTDOWN_DELAY_MS: 0,
  DATABASE_POOL_MAX: 1,
  PAYMENT_TIMEOUT_MS: 1,
  MAX_RENTAL_DAYS: 1,
  BOOKING_HORIZON_DAYS: 1,
  UNPAID_HOLD_SECONDS: 1,
  MAX_UNPAID_HOLDS: 1,
  HOLD_EXPIRY_SWEEP_MS: 100,
  IDEMPOTENCY_KEY_RETENTION_HOURS: 24,
  PAYMENT_BREAKER_THRESHOLD: 1,
  PAYMENT_BREAKER_HALF_OPEN_MS: 1,
  RESERVATION_TIMEOUT_MS: 1,
  RESERVATION_BREAKER_THRESHOLD: 1,
  RESERVATION_BREAKER_HALF_OPEN_MS: 1,
  EVENT_LOCK_MS: 1000,
  SUBSCRIPTIONS_PER_CONNECTION: 1,
  SUBSCRIPTIONS_PER_CUSTOMER: 1,
  SUBSCRIPTION_BUFFER: 1,
  SUBSCRIPTION_RESOLVE_CONCURRENCY: 1,
  ADMISSION_MAX_CONCURRENT: 1,
  ADMISSION_MAX_QUEUED: 0,
  ADMISSION_MAX_QUEUE_WAIT_MS: 1,
  ADMISSION_RETRY_AFTER_S: 1,
  DATABASE_POOL_TIMEOUT_MS: 1,
  DATABASE_TX_MAX_WAIT_MS: 1,
  DATABASE_TX_TIMEOUT_MS: 1,
};

/** The router and the three subgraphs: command, port and environment each must get. */
export const DEPLOYABLES: readonly Deployable[] = [
  {
    name: "router", port: 4000, entry: "router/src/main.ts",
    secretEnv: [...COMMON_SECRET_ENV, "JWT_SECRET"],
    valueEnv: { ...COMMON_VALUE_ENV, PORT: "4000", RESERVATION_URL: "http://reservation:4001/graphql", PAYMENT_URL: "http://payment:4002/graphql", RENTAL_URL: "http://rental:4003/graphql" },
    serviceUrlEnv: ["RESERVATION_URL", "PAYMENT_URL", "RENTAL_URL"],
    knownEnv: [...BASE_ENV, "JWT_SECRET", "SUPERGRAPH_PATH", "RESERVATION_URL", "PAYMENT_URL", "RENTAL_URL",
      // router/src/env.ts: the edge (README "Security model" and "Fault isolation at the router").
      "JWT_MAX_TTL", "JWT_CLOCK_SKEW_SECONDS", "JWT_ISSUER", "JWT_AUDIENCE",
      "SUBGRAPH_TIMEOUT_MS", "SUBGRAPH_TIMEOUT_MS_RESERVATION", "SUBGRAPH_TIMEOUT_MS_PAYMENT", "SUBGRAPH_TIMEOUT_MS_RENTAL",
      "SUBGRAPH_BREAKER_THRESHOLD", "SUBGRAPH_BREAKER_HALF_OPEN_MS", "SUBGRAPH_MAX_SOCKETS", "METRICS_MAX_OPERATION_NAMES",
      "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_TOKENS", "GRAPHQL_MAX_DIRECTIVES", "GRAPHQL_MAX_COST", "GRAPHQL_INTROSPECTION",
      "RATE_LIMIT_REQUESTS", "RATE_LIMIT_MUTATIONS", "RATE_LIMIT_WINDOW_SECONDS", "TRUST_PROXY",
      // router/src/env.ts: the live view (README "My reservations").
      "SUBSCRIPTIONS_PER_CONNECTION", "SUBSCRIPTIONS_PER_CUSTOMER", "SUBSCRIPTION_BUFFER", "SUBSCRIPTION_RESOLVE_CONCURRENCY"],

  },
  {
    name: "reservation", port: 4001, entry: "subgraphs/reservation/src/main.ts",
    secretEnv: [...COMMON_SECRET_ENV, "DATABASE_URL"],
    valueEnv: { ...COMMON_VALUE_ENV, PORT: "4001", PAYMENT_URL: "http://payment:4002/graphql", PAYMENT_TIMEOUT_MS: "600" },
    serviceUrlEnv: ["PAYMENT_URL"],
    knownEnv: [...SUBGRAPH_ENV, "PAYMENT_URL", "PAYMENT_TIMEOUT_MS", "PAYMENT_BREAKER_THRESHOLD", "PAYMENT_BREAKER_HALF_OPEN_MS", "MAX_RENTAL_DAYS", "BOOKING_HORIZON_DAYS",
      // packages/platform mutationSafetyEnv (FAULT_CRASH_AFTER_COMMIT is test-only: deliberately unknown here).
      "UNPAID_HOLD_SECONDS", "MAX_UNPAID_HOLDS", "IDEMPOTENCY_KEY_RETENTION_HOURS"],
  },
  { name: "payment", port: 4002, entry: "subgraphs/payment/src/main.ts", secretEnv: [...COMMON_SECRET_ENV, "DATABASE_URL"], valueEnv: { ...COMMON_VALUE_ENV, PORT: "4002" }, serviceUrlEnv: [], knownEnv: [...SUBGRAPH_ENV, "HOLD_EXPIRY_SWEEP_MS", "IDEMPOTENCY_KEY_RETENTION_HOURS"] },
  {
    name: "rental", port: 4003, entry: "subgraphs/rental/src/main.ts",
    secretEnv: [...COMMON_SECRET_ENV, "DATABASE_URL"],
    valueEnv: { ...COMMON_VALUE_ENV, PORT: "4003", RESERVATION_URL: "http://reservation:4001/graphql", RESERVATION_TIMEOUT_MS: "1000" },
    serviceUrlEnv: ["RESERVATION_URL"],
    knownEnv: [...SUBGRAPH_ENV, "RESERVATION_URL", "RESERVATION_TIMEOUT_MS", "RESERVATION_BREAKER_THRESHOLD", "RESERVATION_BREAKER_HALF_OPEN_MS"],
  },
];

/**
 * What the migrate init container may be given: scripts/db-migrate.ts reads
 * DATABASE_URL; the shared ConfigMap it loads adds harmless base settings.
 * <SUBGRAPH>_DATABASE_URL is refused on purpose: it would take precedence over
 * DATABASE_URL and migrate another database than the one the app uses.
 */
const MIGRATE_KNOWN_ENV = ["DATABASE_URL", "NODE_ENV", "LOG_LEVEL", "SHUTDOWN_TIMEOUT_MS", "SHUTDOWN_DELAY_MS"];

/** Variables outside `known`, and numeric settings whose value the service would refuse. */
function envNameViolations(where: string, env: Map<string, EnvValue>, known: readonly string[]): string[] {
  const violations: string[] = [];
  for (const [name, value] of env) {
    if (!known.includes(name)) violations.push(`${where}: sets ${name}, which the service does not read (misspelt? it would run on the default)`);
    const min = NUMERIC_ENV[name];
    if (min !== undefined && value.kind === "value" && !(/^\d+$/.test(value.value) && Number(value.value) >= min)) {
      violations.push(`${where}: ${name} ${JSON.stringify(value.value)} is not an integer >= ${min}`);
    }
  }
  return violations;
}

/** The exec-form command of a deployable (the image's entrypoint + its main module). */
export function commandOf(entry: string, ...args: string[]): string[] {
  return ["node", entry, ...args];
}

function deploymentOf(objects: KubeObject[], name: string): Workload | undefined {
  return workloadsOf(objects).find((w) => w.object.kind === "Deployment" && w.object.metadata.name === name);
}

function appContainer(workload: Workload): JsonMap | undefined {
  return (workload.podSpec.containers as JsonMap[]).find((c) => c.name === "app");
}

/**
 * The service contract: one Deployment + ClusterIP Service per deployable running
 * the documented command on the documented port, with every variable it needs
 * (secrets only from Secrets, service URLs pointing at Services of this render)
 * and no variable it does not read (typos), numeric settings in range;
 * subgraph Deployments run their migrations in a `migrate` init container first;
 * only the router is exposed (Ingress on /graphql), subgraphs never.
 */
export function contractViolations(objects: KubeObject[], secrets: SecretCatalog): string[] {
  const violations: string[] = [];
  const services = ofKind(objects, "Service");
  for (const deployable of DEPLOYABLES) {
    const workload = deploymentOf(objects, deployable.name);
    if (!workload) {
      violations.push(`no Deployment ${deployable.name}`);
      continue;
    }
    const app = appContainer(workload);
    if (!app) {
      violations.push(`${workload.id}: no container "app"`);
      continue;
    }
    if (JSON.stringify(app.command) !== JSON.stringify(commandOf(deployable.entry))) violations.push(`${workload.id}: command is ${JSON.stringify(app.command)}`);
    if (app.args !== undefined) violations.push(`${workload.id}: args would be appended to the command`);
    const ports = Array.isArray(app.ports) ? app.ports.filter(isMap) : [];
    if (!ports.some((p) => p.name === "http" && p.containerPort === deployable.port)) violations.push(`${workload.id}: no port http/${deployable.port}`);

    const { env, problems } = effectiveEnv(app, objects, workload.object.metadata.namespace, secrets);
    violations.push(...problems.map((p) => `${workload.id}: ${p}`));
    violations.push(...envNameViolations(`${workload.id} container app`, env, deployable.knownEnv));
    const describe = (value: EnvValue | undefined) => (value === undefined ? "unset" : value.kind === "value" ? JSON.stringify(value.value) : value.kind === "secret" ? `Secret ${value.secret}/${value.key}` : "another source");
    for (const name of deployable.secretEnv) {
      if (env.get(name)?.kind !== "secret") violations.push(`${workload.id}: ${name} must come from a Secret, is ${describe(env.get(name))}`);
    }
    for (const [name, expected] of Object.entries(deployable.valueEnv)) {
      const actual = env.get(name);
      if (actual?.kind !== "value" || actual.value !== expected) violations.push(`${workload.id}: ${name} must be ${expected}, is ${describe(actual)}`);
    }
    for (const name of deployable.serviceUrlEnv) {
      const value = env.get(name);
      if (value?.kind !== "value") continue;
      const url = new URL(value.value);
      const target = services.find((s) => s.metadata.name === url.hostname && s.metadata.namespace === workload.object.metadata.namespace);
      const servicePorts = target && Array.isArray((target.spec as JsonMap).ports) ? ((target.spec as JsonMap).ports as JsonMap[]) : [];
      if (!servicePorts.some((p) => p.port === Number(url.port))) violations.push(`${workload.id}: ${name} ${value.value} does not name a Service port of this render`);
    }

    const service = services.find((s) => s.metadata.name === deployable.name);
    const serviceSpec = service ? (service.spec as JsonMap) : undefined;
    if (!serviceSpec) violations.push(`no Service ${deployable.name}`);
    else {
      if ((serviceSpec.type ?? "ClusterIP") !== "ClusterIP") violations.push(`${objectId(service as KubeObject)}: type ${String(serviceSpec.type)} (only ClusterIP; the router is exposed by the Ingress)`);
      const port = (serviceSpec.ports as JsonMap[] | undefined)?.find((p) => p.port === deployable.port);
      if (!port) violations.push(`${objectId(service as KubeObject)}: no port ${deployable.port}`);
    }

    if (deployable.name !== "router") {
      const migrate = (workload.podSpec.initContainers as JsonMap[] | undefined)?.find((c) => c.name === "migrate");
      if (!migrate) violations.push(`${workload.id}: no migrate init container`);
      else {
        if (JSON.stringify(migrate.command) !== JSON.stringify(commandOf("scripts/db-migrate.ts", deployable.name))) violations.push(`${workload.id}: migrate command is ${JSON.stringify(migrate.command)}`);
        if (migrate.image !== app.image) violations.push(`${workload.id}: migrate runs ${String(migrate.image)}, the app ${String(app.image)} (must be the same image)`);
        const migrateEnv = effectiveEnv(migrate, objects, workload.object.metadata.namespace, secrets);
        violations.push(...migrateEnv.problems.map((p) => `${workload.id} init container migrate: ${p}`));
        violations.push(...envNameViolations(`${workload.id} init container migrate`, migrateEnv.env, MIGRATE_KNOWN_ENV));
        if (JSON.stringify(migrateEnv.env.get("DATABASE_URL")) !== JSON.stringify(env.get("DATABASE_URL"))) violations.push(`${workload.id}: migrate and app use different DATABASE_URL sources`);
      }
    }
  }

  for (const service of services) {
    const spec = service.spec as JsonMap;
    if (spec.type === "LoadBalancer" || spec.type === "NodePort") violations.push(`${objectId(service)}: ${String(spec.type)} exposes it outside the cluster`);
  }
  const ingresses = ofKind(objects, "Ingress");
  const backends = ingresses.flatMap((ingress) => ((ingress.spec as JsonMap).rules as JsonMap[] ?? []).flatMap((rule) =>
    (((rule.http as JsonMap | undefined)?.paths as JsonMap[] | undefined) ?? []).map((path) => ({ ingress, path: String(path.path), service: ((path.backend as JsonMap).service ?? {}) as JsonMap }))));
  if (!backends.some((b) => b.service.name === "router" && b.path === "/graphql")) violations.push("no Ingress routes /graphql to the router");
  for (const backend of backends) {
    if (backend.service.name !== "router") violations.push(`${objectId(backend.ingress)}: exposes ${String(backend.service.name)} (only the router may be public)`);
  }
  return violations;
}

/**
 * Dangling references: Services whose selector or targetPort matches no pod,
 * ConfigMap volumes naming no ConfigMap, Ingress backends naming no Service port.
 */
export function referenceViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  const workloads = workloadsOf(objects);
  for (const service of ofKind(objects, "Service")) {
    const spec = service.spec as JsonMap;
    const selected = workloads.filter((w) => w.object.metadata.namespace === service.metadata.namespace && selectorMatches({ matchLabels: spec.selector as Record<string, string> }, w.podLabels));
    if (selected.length === 0) violations.push(`${objectId(service)}: selector matches no pods`);
    for (const port of (spec.ports as JsonMap[]) ?? []) {
      const declared = selected.some((w) => ((w.podSpec.containers as JsonMap[]) ?? []).some((c) =>
        ((c.ports as JsonMap[]) ?? []).some((p) => p.name === port.targetPort || p.containerPort === (port.targetPort ?? port.port))));
      if (!declared) violations.push(`${objectId(service)}: targetPort ${String(port.targetPort)} is not a port of its pods`);
    }
  }
  for (const workload of workloads) {
    for (const volume of (workload.podSpec.volumes as JsonMap[] | undefined) ?? []) {
      const name = isMap(volume.configMap) ? volume.configMap.name : undefined;
      if (name && !objects.some((o) => o.kind === "ConfigMap" && o.metadata.name === name && o.metadata.namespace === workload.object.metadata.namespace)) {
        violations.push(`${workload.id}: volume ${String(volume.name)} names missing ConfigMap ${String(name)}`);
      }
    }
  }
  for (const ingress of ofKind(objects, "Ingress")) {
    for (const rule of ((ingress.spec as JsonMap).rules as JsonMap[]) ?? []) {
      for (const path of ((rule.http as JsonMap | undefined)?.paths as JsonMap[] | undefined) ?? []) {
        const backend = ((path.backend as JsonMap).service ?? {}) as JsonMap;
        const service = objects.find((o) => o.kind === "Service" && o.metadata.name === backend.name && o.metadata.namespace === ingress.metadata.namespace);
        const port = isMap(backend.port) ? backend.port : {};
        const ports = service ? (((service.spec as JsonMap).ports as JsonMap[]) ?? []) : [];
        if (!ports.some((p) => (port.name !== undefined ? p.name === port.name : p.port === port.number))) {
          violations.push(`${objectId(ingress)}: backend ${String(backend.name)}:${String(port.name ?? port.number)} is not a Service port`);
        }
      }
    }
  }
  return violations;
}

/**
 * The supergraph the router will load in the cluster: the ConfigMap entry mounted
 * at SUPERGRAPH_PATH in the router's app container.
 * @throws Error when SUPERGRAPH_PATH does not point into a mounted ConfigMap key.
 */
export function routerSupergraph(objects: KubeObject[], secrets: SecretCatalog): { configMap: string; key: string; content: string } {
  const router = deploymentOf(objects, "router");
  const app = router && appContainer(router);
  if (!router || !app) throw new Error("no router Deployment");
  const path = effectiveEnv(app, objects, router.object.metadata.namespace, secrets).env.get("SUPERGRAPH_PATH");
  if (path?.kind !== "value") throw new Error("SUPERGRAPH_PATH is not set from a ConfigMap");
  const mount = ((app.volumeMounts as JsonMap[]) ?? []).find((m) => m.mountPath === dirname(path.value));
  const volume = ((router.podSpec.volumes as JsonMap[]) ?? []).find((v) => v.name === mount?.name);
  const configMapName = isMap(volume?.configMap) ? String(volume.configMap.name) : undefined;
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === configMapName);
  const key = posix.basename(path.value);
  const content = (configMap?.data as Record<string, string> | undefined)?.[key];
  if (!configMap || content === undefined) throw new Error(`SUPERGRAPH_PATH ${path.value} is not a key of a mounted ConfigMap`);
  return { configMap: configMap.metadata.name, key, content };
}
