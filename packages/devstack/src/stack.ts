import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { provideDatabase, SUBGRAPH_NAMES, type StackDatabase, type SubgraphName } from "./databases.ts";
import { resolveRedis, type ResolvedRedis } from "./redis-server.ts";
import { startProcess, repoRoot, type ServiceProcess } from "./service-process.ts";

export interface StackOptions {
  /** Router port (4000 locally); subgraphs listen on the given ports. */
  ports: { router: number } & Record<SubgraphName, number>;
  /** Per-subgraph database URLs; a missing one gets an embedded PostgreSQL. */
  databaseUrls: Partial<Record<SubgraphName, string>>;
  redisUrl?: string;
  /** Embedded database and Redis data (default `.data/` in the repo, git-ignored). */
  dataDir?: string;
  /** Extra env for every service (JWT_SECRET, INTERNAL_SECRET, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Receives every service output line and the stack's own progress lines. */
  onLine?(service: string, line: string): void;
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
  databases: StackDatabase[];
  redis: ResolvedRedis;
  services: ServiceProcess[];
  /** The running process of a service. */
  service(name: SubgraphName | "router"): ServiceProcess;
  /**
   * Stops a service with `signal` (SIGKILL simulates a crash) and starts it again with
   * the same env plus `envOverrides`, waiting until it is ready. Pass `restart: false` to leave it stopped.
   */
  restart(name: SubgraphName | "router", options?: RestartOptions): Promise<void>;
  /** Starts a stopped service again (after `restart(..., { restart: false })`). */
  start(name: SubgraphName | "router", options?: Pick<RestartOptions, "envOverrides" | "waitFor">): Promise<void>;
  /** Starts one more router process (a replica) on `port`, sharing everything else; stopped with the stack. */
  startRouterReplica(port: number): Promise<ServiceProcess>;
  /** Stops the router first, then the subgraphs, then embedded databases and Redis. */
  stop(): Promise<void>;
}

/** Start order: payment before reservation (reservation calls it), the router last. */
const START_ORDER: readonly SubgraphName[] = ["rental", "payment", "reservation"];

const ENTRY: Record<SubgraphName | "router", string> = {
  reservation: "subgraphs/reservation/src/main.ts",
  payment: "subgraphs/payment/src/main.ts",
  rental: "subgraphs/rental/src/main.ts",
  router: "router/src/main.ts",
};

/**
 * Brings up the whole supergraph as separate processes: databases (given or embedded)
 * migrated, Redis resolved, then rental, payment, reservation and the router, each
 * started only after the previous one is ready (`/health/ready`).
 * @throws Error naming the step that failed; whatever was started is stopped again.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = options.dataDir ?? fileURLToPath(new URL(".data/", repoRoot));
  const say = (line: string) => options.onLine?.("stack", line);
  const cleanup: (() => Promise<void>)[] = [];
  const services: ServiceProcess[] = [];
  const envs = new Map<SubgraphName | "router", Record<string, string>>();
  const byName = new Map<SubgraphName | "router", ServiceProcess>();
  const stop = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
    cleanup.length = 0;
  };
  try {
    const redis = await resolveRedis(options.redisUrl, resolve(dataDir, "redis"));
    cleanup.push(redis.stop);
    say(`redis: ${redis.url} (${redis.source})`);
    const databases: StackDatabase[] = [];
    for (const name of SUBGRAPH_NAMES) {
      const db = await provideDatabase(name, options.databaseUrls[name], dataDir);
      cleanup.push(db.stop);
      databases.push(db);
      say(`${name} database: ${db.source}${db.applied.length ? `, applied ${db.applied.join(", ")}` : ", migrations up to date"}`);
    }
    // Services stop before the databases (cleanup runs in reverse), router first.
    cleanup.push(async () => {
      for (const service of [...byName.values()].reverse()) await service.stop();
    });
    const common = { REDIS_URL: redis.url, ...options.env };
    const url = (port: number) => `http://127.0.0.1:${port}`;
    for (const name of START_ORDER) {
      const db = databases.find((d) => d.name === name)!;
      const env = {
        ...common,
        PORT: String(options.ports[name]),
        DATABASE_URL: db.url,
        ...(db.source === "embedded" ? { DATABASE_POOL_MAX: "1" } : {}),
        ...(name === "reservation" ? { PAYMENT_URL: `${url(options.ports.payment)}/graphql` } : {}),
      };
      envs.set(name, env);
      const service = await startService(name, options, env);
      byName.set(name, service);
      services.push(service);
    }
    const routerEnv = {
      ...common,
      PORT: String(options.ports.router),
      RESERVATION_URL: `${url(options.ports.reservation)}/graphql`,
      PAYMENT_URL: `${url(options.ports.payment)}/graphql`,
      RENTAL_URL: `${url(options.ports.rental)}/graphql`,
    };
    const router = await startService("router", options, routerEnv);
    services.push(router);
    byName.set("router", router);
    envs.set("router", routerEnv);
    const start: Stack["start"] = async (name, { envOverrides = {}, waitFor = "ready" } = {}) => {
      const service = await startService(name, options, { ...envs.get(name)!, ...envOverrides }, waitFor);
      byName.set(name, service);
      services.splice(services.findIndex((s) => s.name === name), 1, service);
    };
    return {
      routerUrl: `${url(options.ports.router)}/graphql`,
      subgraphUrls: {
        reservation: `${url(options.ports.reservation)}/graphql`,
        payment: `${url(options.ports.payment)}/graphql`,
        rental: `${url(options.ports.rental)}/graphql`,
      },
      databases,
      redis,
      services,
      stop,
      start,
      service: (name) => byName.get(name)!,
      async startRouterReplica(port) {
        const replica = await startService("router", options, { ...routerEnv, PORT: String(port) });
        cleanup.splice(cleanup.length, 0, () => replica.stop().then(() => {}));
        return replica;
      },
      async restart(name, { signal = "SIGTERM", envOverrides = {}, restart = true, waitFor = "ready" } = {}) {
        await byName.get(name)!.stop(signal);
        if (restart) await start(name, { envOverrides, waitFor });
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startService(
  name: SubgraphName | "router",
  options: StackOptions,
  env: Record<string, string>,
  waitFor: "ready" | "live" = "ready",
): Promise<ServiceProcess> {
  options.onLine?.("stack", `starting ${name} on port ${env.PORT}`);
  const service = await startProcess({
    name,
    entry: ENTRY[name],
    env,
    readyUrl: `http://127.0.0.1:${env.PORT}/health/${waitFor}`,
    onLine: (line) => options.onLine?.(name, line),
  });
  options.onLine?.("stack", `${name} ready`);
  return service;
}
