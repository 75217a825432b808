import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { baseEnvSchema, parseEnv } from "./config.ts";
import { LOCAL_JWT_SECRET } from "./customer-token.ts";

/**
 * The ONE place that resolves the configuration of the local stack (`npm start`) and of
 * every tool that talks to it (`watch`, `queues`, `projection:rebuild`, `token`, `bench`).
 * Everything derives from the environment the same way, and a tool started without
 * settings follows the stack that `npm start` is running (see {@link resolveToolConfig}).
 */

export const LOCAL_SUBGRAPHS = ["reservation", "payment", "rental"] as const;
export type LocalSubgraph = (typeof LOCAL_SUBGRAPHS)[number];

/** Local default of the queue dashboard's password (printed by `npm start`; refused in production). */
export const LOCAL_DASHBOARD_PASSWORD = "local-dashboard-password";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const optionalPort = z.coerce.number().int().min(1).max(65535).optional();
const optionalDatabaseUrl = z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL").optional();

/** The variables of the local stack; every one is optional (see the README's configuration table). */
export const localStackEnvSchema = z.object({
  /** The router's port; the other ports default to PORT+1 … PORT+5. */
  PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  RESERVATION_PORT: optionalPort,
  PAYMENT_PORT: optionalPort,
  RENTAL_PORT: optionalPort,
  QUEUE_DASHBOARD_PORT: optionalPort,
  EMBEDDED_POSTGRES_PORT: optionalPort,
  RESERVATION_DATABASE_URL: optionalDatabaseUrl,
  PAYMENT_DATABASE_URL: optionalDatabaseUrl,
  RENTAL_DATABASE_URL: optionalDatabaseUrl,
  /** Unset: 127.0.0.1:6379 when it answers, else a redis-server that `npm start` starts. */
  REDIS_URL: z.url().optional(),
  QUEUE_PREFIX: baseEnvSchema.shape.QUEUE_PREFIX,
  JWT_SECRET: z.string().min(16, "must be at least 16 characters").default(LOCAL_JWT_SECRET),
  INTERNAL_SECRET: baseEnvSchema.shape.INTERNAL_SECRET,
  QUEUE_DASHBOARD_USER: z.string().min(1).default("operator"),
  QUEUE_DASHBOARD_PASSWORD: z.string().min(8, "must be at least 8 characters").default(LOCAL_DASHBOARD_PASSWORD),
  /** Embedded database, Redis data and the running stack's state file (default `.data/` in the repo). */
  DATA_DIR: z.string().min(1).optional(),
  LOG_LEVEL: baseEnvSchema.shape.LOG_LEVEL,
});

export interface LocalStackConfig {
  dataDir: string;
  ports: Record<"router" | LocalSubgraph | "dashboard" | "postgres", number>;
  /** `http://127.0.0.1:<PORT>/graphql` */
  routerUrl: string;
  /** `ws://127.0.0.1:<PORT>/graphql` (graphql-ws) */
  routerWsUrl: string;
  /** Direct subgraph endpoints (internal-token protected). */
  subgraphUrls: Record<LocalSubgraph, string>;
  /** Each subgraph's database: the given URL, else `rentcar_<name>` on the embedded PostgreSQL. */
  databaseUrls: Record<LocalSubgraph, string>;
  /** Subgraphs whose database is on the embedded PostgreSQL (no URL given). */
  embedded: LocalSubgraph[];
  /** `REDIS_URL`, or what the running stack resolved; undefined: let `npm start` find one. */
  redisUrl: string | undefined;
  queuePrefix: string;
  jwtSecret: string;
  internalSecret: string;
  dashboard: { url: string; user: string; password: string };
  logLevel: z.infer<typeof localStackEnvSchema>["LOG_LEVEL"];
  /** Set when these values come from a running `npm start` (its state file). */
  runningPid?: number;
}

const loopback = (port: number, scheme = "http") => `${scheme}://127.0.0.1:${port}`;

/**
 * Resolves the local stack's configuration from `env` alone.
 * @throws ConfigError listing every invalid variable.
 */
export function resolveLocalStackConfig(env: NodeJS.ProcessEnv = process.env): LocalStackConfig {
  const e = parseEnv(localStackEnvSchema, env);
  const ports = {
    router: e.PORT,
    reservation: e.RESERVATION_PORT ?? e.PORT + 1,
    payment: e.PAYMENT_PORT ?? e.PORT + 2,
    rental: e.RENTAL_PORT ?? e.PORT + 3,
    dashboard: e.QUEUE_DASHBOARD_PORT ?? e.PORT + 4,
    postgres: e.EMBEDDED_POSTGRES_PORT ?? e.PORT + 5,
  };
  const given: Record<LocalSubgraph, string | undefined> = {
    reservation: e.RESERVATION_DATABASE_URL,
    payment: e.PAYMENT_DATABASE_URL,
    rental: e.RENTAL_DATABASE_URL,
  };
  const dataDir = e.DATA_DIR ? (isAbsolute(e.DATA_DIR) ? e.DATA_DIR : resolve(e.DATA_DIR)) : join(repoRoot, ".data");
  return {
    dataDir,
    ports,
    routerUrl: `${loopback(ports.router)}/graphql`,
    routerWsUrl: `${loopback(ports.router, "ws")}/graphql`,
    subgraphUrls: mapSubgraphs((name) => `${loopback(ports[name])}/graphql`),
    databaseUrls: mapSubgraphs((name) => given[name] ?? `postgresql://postgres@127.0.0.1:${ports.postgres}/rentcar_${name}`),
    embedded: LOCAL_SUBGRAPHS.filter((name) => !given[name]),
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    jwtSecret: e.JWT_SECRET,
    internalSecret: e.INTERNAL_SECRET,
    dashboard: { url: `${loopback(ports.dashboard)}/queues`, user: e.QUEUE_DASHBOARD_USER, password: e.QUEUE_DASHBOARD_PASSWORD },
    logLevel: e.LOG_LEVEL,
  };
}

function mapSubgraphs<T>(fn: (name: LocalSubgraph) => T): Record<LocalSubgraph, T> {
  return Object.fromEntries(LOCAL_SUBGRAPHS.map((name) => [name, fn(name)])) as Record<LocalSubgraph, T>;
}

/** What `npm start` records about itself in `<dataDir>/stack.json` (no secrets). */
export interface RunningStack {
  pid: number;
  startedAt: string;
  ports: LocalStackConfig["ports"];
  databaseUrls: Record<LocalSubgraph, string>;
  redisUrl: string;
  queuePrefix: string;
  /** False when the stack runs with a JWT_SECRET / INTERNAL_SECRET other than the local defaults. */
  defaultSecrets: boolean;
}

const stateFile = (dataDir: string) => join(dataDir, "stack.json");

/** Records the running stack (atomically) so tools started later can follow it. */
export function writeRunningStack(dataDir: string, stack: RunningStack): void {
  const tmp = `${stateFile(dataDir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, stateFile(dataDir));
}

/** Removes the state file if it is this process's. */
export function removeRunningStack(dataDir: string, pid = process.pid): void {
  if (readRunningStack(dataDir, { includeDead: true })?.pid === pid) rmSync(stateFile(dataDir), { force: true });
}

/** The stack `npm start` is running on `dataDir`, or undefined (none, or its process is gone). */
export function readRunningStack(dataDir: string, { includeDead = false } = {}): RunningStack | undefined {
  let stack: RunningStack;
  try {
    stack = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as RunningStack;
  } catch {
    return undefined;
  }
  if (!includeDead && !isAlive(stack.pid)) return undefined;
  return stack;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The configuration a tool uses: {@link resolveLocalStackConfig}, where every setting not
 * given in `env` is taken from the `npm start` running on the same DATA_DIR (so
 * `PORT=5100 npm start` and a plain `npm run watch` meet). A `PORT` that differs from the
 * running stack's means "another stack": then nothing is taken from it.
 */
export function resolveToolConfig(env: NodeJS.ProcessEnv = process.env): LocalStackConfig {
  const own = resolveLocalStackConfig(env);
  const running = readRunningStack(own.dataDir);
  if (!running || (env.PORT && Number(env.PORT) !== running.ports.router)) return own;
  const merged = resolveLocalStackConfig({
    PORT: String(running.ports.router),
    RESERVATION_PORT: String(running.ports.reservation),
    PAYMENT_PORT: String(running.ports.payment),
    RENTAL_PORT: String(running.ports.rental),
    QUEUE_DASHBOARD_PORT: String(running.ports.dashboard),
    EMBEDDED_POSTGRES_PORT: String(running.ports.postgres),
    RESERVATION_DATABASE_URL: running.databaseUrls.reservation,
    PAYMENT_DATABASE_URL: running.databaseUrls.payment,
    RENTAL_DATABASE_URL: running.databaseUrls.rental,
    REDIS_URL: running.redisUrl,
    QUEUE_PREFIX: running.queuePrefix,
    ...definedOnly(env),
  });
  return { ...merged, runningPid: running.pid };
}

function definedOnly(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
}

/**
 * A warning for a tool about to sign tokens for a stack started with non-default
 * secrets while the tool itself has the defaults (its tokens would be refused).
 */
export function secretMismatchWarning(config: LocalStackConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (config.runningPid === undefined) return undefined;
  const running = readRunningStack(config.dataDir);
  if (running && !running.defaultSecrets && !env.JWT_SECRET) {
    return `npm start (pid ${running.pid}) runs with its own JWT_SECRET/INTERNAL_SECRET: set the same variables for this command`;
  }
  return undefined;
}
