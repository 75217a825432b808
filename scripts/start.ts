/**
 * `npm start`: the whole supergraph on this machine, one command. See README.md.
 * Configuration: packages/platform/src/local-stack-config.ts (the one place every tool shares).
 * Databases: *_DATABASE_URL when given, otherwise one embedded PostgreSQL under DATA_DIR (.data/).
 * Redis: REDIS_URL, else 127.0.0.1:6379, else a redis-server from PATH.
 */
import { formatServiceLine, residentMemory, startStack, type Stack } from "@rentcar/devstack";
import {
  ConfigError,
  LOCAL_DASHBOARD_PASSWORD,
  LOCAL_JWT_SECRET,
  baseEnvSchema,
  readRunningStack,
  removeRunningStack,
  resolveLocalStackConfig,
  writeRunningStack,
  type LocalStackConfig,
} from "@rentcar/platform";

/** Everything must be stopped within this after a signal (the issue's promise: 10 s). */
const STOP_DEADLINE_MS = 9_000;
/** Services get this long to drain after SIGTERM before their process group is killed. */
const SERVICE_STOP_MS = 6_000;

const print = (service: string, line: string) => console.log(formatServiceLine(service, line));
// A closed terminal or pipe must not crash the orchestrator half-way through stopping.
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

let config: LocalStackConfig;
try {
  config = resolveLocalStackConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`npm start: ${error.message}`);
  process.exit(1);
}
const already = readRunningStack(config.dataDir);
if (already) {
  console.error(`npm start: a stack is already running on ${config.dataDir} (pid ${already.pid}, router port ${already.ports.router}); stop it first, or set DATA_DIR`);
  process.exit(1);
}

const startedAt = Date.now();
let stack: Stack | undefined;
let stopping: Promise<void> | undefined;

/** Stops everything (router first, databases last), with a hard deadline, then exits. */
function stopAll(reason: string, exitCode = 0): Promise<void> {
  stopping ??= (async () => {
    print("stack", `${reason}: stopping router, dashboard, subgraphs, databases`);
    const deadline = setTimeout(() => {
      print("stack", `not stopped within ${STOP_DEADLINE_MS} ms: killing what is left`);
      killEverything("SIGKILL");
      process.exit(exitCode || 1);
    }, STOP_DEADLINE_MS);
    await stack?.stop().catch((error: Error) => print("stack", `stop failed: ${error.message}`));
    removeRunningStack(config.dataDir);
    clearTimeout(deadline);
    print("stack", "stopped");
    process.exit(exitCode);
  })();
  return stopping;
}

/** Last resort: services and the database run in their own process groups, so signal the groups. */
function killEverything(signal: NodeJS.Signals): void {
  const pids = [...(stack?.services ?? []).map((s) => s.child.pid), stack?.embeddedPostgres?.pid, stack?.redis.pid];
  for (const pid of pids) {
    if (!pid) continue;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stopAll(signal));
process.on("exit", () => {
  if (!stopping) killEverything("SIGTERM");
});
// npm (or the terminal) may die without telling us (SIGKILL): our parent changes; stop then too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stopAll("parent process gone");
}, 500).unref();

const defaultSecrets = config.jwtSecret === LOCAL_JWT_SECRET && config.internalSecret === baseEnvSchema.shape.INTERNAL_SECRET.parse(undefined);
try {
  stack = await startStack({
    ports: config.ports,
    databaseUrls: Object.fromEntries(Object.entries(config.databaseUrls).filter(([name]) => !config.embedded.includes(name as never))),
    embeddedPostgresPort: config.ports.postgres,
    redisUrl: config.redisUrl,
    dataDir: config.dataDir,
    dashboard: { port: config.ports.dashboard, user: config.dashboard.user, password: config.dashboard.password },
    env: {
      JWT_SECRET: config.jwtSecret,
      INTERNAL_SECRET: config.internalSecret,
      QUEUE_PREFIX: config.queuePrefix,
      LOG_LEVEL: config.logLevel,
      SHUTDOWN_TIMEOUT_MS: String(SERVICE_STOP_MS - 1_000),
    },
    onLine: print,
    restartOnCrash: true,
    stopTimeoutMs: SERVICE_STOP_MS,
  });
} catch (error) {
  if (!stopping) {
    console.error(`\nnpm start failed: ${(error as Error).message}`);
    process.exit(1);
  }
  await stopping;
}
if (stopping) await stopping;
const running = stack!;

writeRunningStack(config.dataDir, {
  pid: process.pid,
  startedAt: new Date().toISOString(),
  ports: config.ports,
  databaseUrls: Object.fromEntries(running.databases.map((db) => [db.name, db.url])) as LocalStackConfig["databaseUrls"],
  redisUrl: running.redis.url,
  queuePrefix: config.queuePrefix,
  defaultSecrets,
});

const credentials = config.dashboard.password === LOCAL_DASHBOARD_PASSWORD
  ? `user ${config.dashboard.user}, password ${config.dashboard.password}`
  : `user ${config.dashboard.user}, password from QUEUE_DASHBOARD_PASSWORD`;
const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
const warmth = running.embeddedPostgres ? (running.embeddedPostgres.initialised ? "cold: new database cluster" : "warm: existing data") : "your databases";
const memoryMb = () => (residentMemory([process.pid, ...running.services.map((s) => s.child.pid!), running.embeddedPostgres?.pid ?? 0, running.redis.pid ?? 0].filter(Boolean)) / 2 ** 20).toFixed(0);
console.log(`
  Supergraph ready in ${seconds} s (${warmth}: databases ${(running.timings.infraMs / 1000).toFixed(1)} s, services ${(running.timings.servicesMs / 1000).toFixed(1)} s)
  Memory:   ${memoryMb()} MB resident, all processes of the stack

  Router:   ${running.routerUrl}   (open it in a browser: GraphiQL)
  Token:    npm run -s token -- alice    (then send "Authorization: Bearer <token>")
  Watch:    npm run -s watch -- alice    (live changes of alice's reservations)
  Queues:   ${running.dashboardUrl}   (${credentials})
  Database: ${running.embeddedPostgres ? `embedded PostgreSQL, psql ${running.embeddedPostgres.urlFor("rentcar_reservation")}` : "the given *_DATABASE_URL"}
  Stop:     Ctrl-C (a crashed service is restarted with backoff)
`);
