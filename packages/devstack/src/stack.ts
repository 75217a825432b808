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

export interface Stack {
  routerUrl: string;
  databases: StackDatabase[];
  redis: ResolvedRedis;
  services: ServiceProcess[];
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
    const common = { REDIS_URL: redis.url, ...options.env };
    const url = (port: number) => `http://127.0.0.1:${port}`;
    for (const name of START_ORDER) {
      const db = databases.find((d) => d.name === name)!;
      const service = await startService(name, options, {
        ...common,
        PORT: String(options.ports[name]),
        DATABASE_URL: db.url,
        ...(db.source === "embedded" ? { DATABASE_POOL_MAX: "1" } : {}),
        ...(name === "reservation" ? { PAYMENT_URL: `${url(options.ports.payment)}/graphql` } : {}),
      });
      services.push(service);
      cleanup.push(() => service.stop().then(() => {}));
    }
    const router = await startService("router", options, {
      ...common,
      PORT: String(options.ports.router),
      RESERVATION_URL: `${url(options.ports.reservation)}/graphql`,
      PAYMENT_URL: `${url(options.ports.payment)}/graphql`,
      RENTAL_URL: `${url(options.ports.rental)}/graphql`,
    });
    services.push(router);
    cleanup.push(() => router.stop().then(() => {}));
    return { routerUrl: `${url(options.ports.router)}/graphql`, databases, redis, services, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startService(name: SubgraphName | "router", options: StackOptions, env: Record<string, string>): Promise<ServiceProcess> {
  options.onLine?.("stack", `starting ${name} on port ${env.PORT}`);
  const service = await startProcess({
    name,
    entry: ENTRY[name],
    env,
    readyUrl: `http://127.0.0.1:${env.PORT}/health/ready`,
    onLine: (line) => options.onLine?.(name, line),
  });
  options.onLine?.("stack", `${name} ready`);
  return service;
}
