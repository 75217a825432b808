import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { EmbeddedPostgres } from "@rentcar/db";
import getPort from "get-port";
import { provideDatabases, type StackDatabase, type SubgraphName } from "./databases.ts";
import { resolveRedis, type ResolvedRedis } from "./redis-server.ts";
import { RestartBackoff } from "./restart-backoff.ts";
import { startProcess, repoRoot, type ServiceProcess } from "./service-process.ts";

export type ServiceName = SubgraphName | "router" | "dashboard";

export interface StackOptions {
  /** Router port (4000 locally); subgraphs listen on the given ports. */
  ports: { router: number } & Record<SubgraphName, number>;
  /** Per-subgraph database URLs; the missing ones get a database on one embedded PostgreSQL. */
  databaseUrls: Partial<Record<SubgraphName, string>>;
  /** Port of the embedded PostgreSQL on 127.0.0.1 (default: a free one). */
  embeddedPostgresPort?: number;
  redisUrl?: string;
  /** Embedded database and Redis data (default `.data/` in the repo, git-ignored). */
  dataDir?: string;
  /** The queue dashboard (bull-board) on this port with basic-auth credentials; none when omitted. */
  dashboard?: { port: number; user: string; password: string };
  /** Extra env for every service (JWT_SECRET, INTERNAL_SECRET, QUEUE_PREFIX, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Receives every service output line and the stack's own progress lines. */
  onLine?(service: string, line: string): void;
  /** Restart a service that exits on its own, with exponential backoff (what `npm start` does). Default false. */
  restartOnCrash?: boolean;
  /** How long a service gets after SIGTERM before its process group is killed, in ms (default 15 000). */
  stopTimeoutMs?: number;
  /**
   * Node arguments before each service's entry file (default `--import tsx`, which `npm start` uses
   * for watch-friendly source maps). `[]` runs the TypeScript sources with Node's own type
   * stripping, as the production image does: what the bench measures.
   */
  nodeArgs?: string[];
}

export interface RestartOptions {
  /** How to stop it: SIGTERM (graceful, default) or SIGKILL (a crash). */
  signal?: NodeJS.Signals;
  envOverrides?: Record<string, string>;
  /** false: leave it stopped. */
  restart?: boolean;
  /** Wait for `/health/ready` (default) or only `/health/live` (e.g. when started without Redis on purpose). */
  waitFor?: "ready" | "live";
}

export interface Stack {
  routerUrl: string;
  /** GraphQL URL of each subgraph (direct, internal-token protected). */
  subgraphUrls: Record<SubgraphName, string>;
  /** `http://127.0.0.1:<port>/queues` when the dashboard runs. */
  dashboardUrl?: string;
  databases: StackDatabase[];
  /** The embedded PostgreSQL server, when a database needed one. */
  embeddedPostgres?: EmbeddedPostgres;
  redis: ResolvedRedis;
  /** How long the start took, in ms: Redis + databases (migrated), then the services until ready. */
  timings: { infraMs: number; servicesMs: number };
  /** Running services in start order (subgraphs, router, dashboard). */
  services: ServiceProcess[];
  /** The running process of a service. */
  service(name: ServiceName): ServiceProcess;
  /**
   * Stops a service with `signal` (SIGKILL simulates a crash) and starts it again with
   * the same env plus `envOverrides`, waiting until it is ready. Pass `restart: false` to leave it stopped.
   */
  restart(name: ServiceName, options?: RestartOptions): Promise<void>;
  /** Starts a stopped service again (after `restart(..., { restart: false })`). */
  start(name: ServiceName, options?: Pick<RestartOptions, "envOverrides" | "waitFor">): Promise<void>;
  /** Starts one more router process (a replica) on `port`, sharing everything else (plus `envOverrides`); stopped with the stack. */
  startRouterReplica(port: number, envOverrides?: Record<string, string>): Promise<ServiceProcess>;
  /** Stops the router and dashboard first, then the subgraphs, then the embedded database and Redis. Idempotent. */
  stop(): Promise<void>;
}

const ENTRY: Record<ServiceName, string> = {
  reservation: "subgraphs/reservation/src/main.ts",
  payment: "subgraphs/payment/src/main.ts",
  rental: "subgraphs/rental/src/main.ts",
  router: "router/src/main.ts",
  dashboard: "packages/devstack/src/queue-dashboard-main.ts",
};
const SUBGRAPHS: readonly SubgraphName[] = ["rental", "payment", "reservation"];

/**
 * Brings up the whole supergraph as separate processes, as fast as the machine allows:
 * Redis and the databases (given, or one embedded PostgreSQL; migrated) in parallel, then
 * every service at once (none needs another to start: the router reads the committed
 * supergraph, reservation calls payment only per request), each waited for on `/health/ready`.
 * @throws Error naming the step that failed; whatever was started is stopped again.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = options.dataDir ?? fileURLToPath(new URL(".data/", repoRoot));
  const say = (line: string) => options.onLine?.("stack", line);
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const envs = new Map<ServiceName, Record<string, string>>();
  const byName = new Map<ServiceName, ServiceProcess>();
  const services: ServiceProcess[] = [];
  const replicas: ServiceProcess[] = [];
  /** Services stopped on purpose (restart/stop): their exit is not a crash. */
  const stoppedOnPurpose = new WeakSet<ServiceProcess>();
  const backoff = new RestartBackoff();
  let stopping = false;
  const infra: { redis?: ResolvedRedis; stopDatabases?: () => Promise<void> } = {};
  const stopService = async (service: ServiceProcess, signal: NodeJS.Signals = "SIGTERM") => {
    stoppedOnPurpose.add(service);
    await service.stop(signal, stopTimeoutMs);
  };
  const stop = onceOnly(async () => {
    stopping = true;
    backoff.cancelAll();
    const running = (names: ServiceName[]) => [...byName.entries()].filter(([name]) => names.includes(name)).map(([, s]) => s);
    await Promise.all([...replicas, ...running(["router", "dashboard"])].map((s) => stopService(s).catch(() => {})));
    await Promise.all(running([...SUBGRAPHS]).map((s) => stopService(s).catch(() => {})));
    await Promise.all([infra.stopDatabases?.(), infra.redis?.stop()].map((p) => p?.catch(() => {})));
  });

  const launch = async (name: ServiceName, env: Record<string, string>, waitFor: "ready" | "live" = "ready") => {
    const service = await startService(name, options, env, waitFor);
    // Only the configured env is kept: restart()'s overrides apply to that one restart, not to later ones.
    if (!envs.has(name)) envs.set(name, env);
    byName.set(name, service);
    const index = services.findIndex((s) => s.name === name);
    if (index >= 0) services.splice(index, 1, service);
    else services.push(service);
    service.child.once("exit", (code, signal) => {
      if (stopping || stoppedOnPurpose.has(service) || byName.get(name) !== service) return;
      if (!options.restartOnCrash) {
        say(`${name} exited unexpectedly (${signal ?? `code ${code}`})`);
        return;
      }
      const delay = backoff.next(name);
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s`);
      backoff.schedule(name, delay, async () => {
        if (stopping) return;
        await launch(name, env).then(
          () => backoff.startedAt(name),
          (error: Error) => say(`${name} restart failed: ${error.message.split("\n")[0]}`),
        );
      });
    });
    return service;
  };

  const t0 = Date.now();
  try {
    // Both at once; each records how to stop it as soon as it is up, so a failure of the other cleans it up.
    const [redisResult, databasesResult] = await Promise.allSettled([
      resolveRedis(options.redisUrl, resolve(dataDir, "redis")).then((r) => (infra.redis = r)),
      provideDatabases({
        urls: options.databaseUrls,
        dataDir,
        embeddedPort: options.embeddedPostgresPort ?? (await getPort()),
      }).then((p) => ((infra.stopDatabases = p.stop), p)),
    ]);
    if (redisResult.status === "rejected") throw redisResult.reason;
    if (databasesResult.status === "rejected") throw databasesResult.reason;
    const [redis, provided] = [redisResult.value, databasesResult.value];
    say(`redis: ${redis.url} (${redis.source})`);
    if (provided.embedded) say(`embedded PostgreSQL on 127.0.0.1:${provided.embedded.port}${provided.embedded.initialised ? " (new cluster)" : ""}`);
    for (const db of provided.databases) {
      say(`${db.name} database: ${db.source}${db.applied.length ? `, applied ${db.applied.join(", ")}` : ", migrations up to date"}`);
    }
    const t1 = Date.now();
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const common = { REDIS_URL: redis.url, HOST: "127.0.0.1", ...options.env };
    const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, `${url(options.ports[name])}/graphql`])) as Record<SubgraphName, string>;
    const routerEnv = {
      ...common,
      PORT: String(options.ports.router),
      RESERVATION_URL: subgraphUrls.reservation,
      PAYMENT_URL: subgraphUrls.payment,
      RENTAL_URL: subgraphUrls.rental,
    };
    const starts: Promise<unknown>[] = SUBGRAPHS.map((name) => {
      const db = provided.databases.find((d) => d.name === name)!;
      return launch(name, {
        ...common,
        PORT: String(options.ports[name]),
        DATABASE_URL: db.url,
        ...(name === "reservation" ? { PAYMENT_URL: subgraphUrls.payment } : {}),
        ...(name === "rental" ? { RESERVATION_URL: subgraphUrls.reservation } : {}),
      });
    });
    starts.push(launch("router", routerEnv));
    if (options.dashboard) {
      const { port, user, password } = options.dashboard;
      starts.push(launch("dashboard", { ...common, PORT: String(port), QUEUE_DASHBOARD_USER: user, QUEUE_DASHBOARD_PASSWORD: password }));
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    // Start order in `services` (subgraphs, router, dashboard), whatever order they became ready in.
    const order: ServiceName[] = [...SUBGRAPHS, "router", "dashboard"];
    services.sort((a, b) => order.indexOf(a.name as ServiceName) - order.indexOf(b.name as ServiceName));

    const start: Stack["start"] = async (name, { envOverrides = {}, waitFor = "ready" } = {}) => {
      await launch(name, { ...envs.get(name)!, ...envOverrides }, waitFor);
    };
    return {
      routerUrl: `${url(options.ports.router)}/graphql`,
      subgraphUrls,
      ...(options.dashboard ? { dashboardUrl: `${url(options.dashboard.port)}/queues` } : {}),
      timings: { infraMs: t1 - t0, servicesMs: Date.now() - t1 },
      databases: provided.databases,
      ...(provided.embedded ? { embeddedPostgres: provided.embedded } : {}),
      redis,
      services,
      stop,
      start,
      service: (name) => byName.get(name)!,
      async startRouterReplica(port, envOverrides = {}) {
        const replica = await startService("router", options, { ...routerEnv, ...envOverrides, PORT: String(port) });
        replicas.push(replica);
        return replica;
      },
      async restart(name, { signal = "SIGTERM", envOverrides = {}, restart = true, waitFor = "ready" } = {}) {
        await stopService(byName.get(name)!, signal);
        if (restart) await start(name, { envOverrides, waitFor });
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startService(
  name: ServiceName,
  options: StackOptions,
  env: Record<string, string>,
  waitFor: "ready" | "live" = "ready",
): Promise<ServiceProcess> {
  options.onLine?.("stack", `starting ${name} on port ${env.PORT}`);
  const service = await startProcess({
    name,
    entry: ENTRY[name],
    env,
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    readyUrl: `http://127.0.0.1:${env.PORT}/health/${waitFor}`,
    onLine: (line) => options.onLine?.(name, line),
  });
  options.onLine?.("stack", `${name} ready`);
  return service;
}

function onceOnly(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
