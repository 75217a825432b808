/**
 * `npm start`: the whole supergraph on this machine, one command. See README.md.
 * Databases: *_DATABASE_URL when given, otherwise embedded PostgreSQL (PGlite) under .data/.
 * Redis: REDIS_URL, else 127.0.0.1:6379, else a redis-server from PATH.
 */
import { formatServiceLine, startStack } from "@rentcar/devstack";
import { LOCAL_JWT_SECRET, loadEnv, portSchema, z } from "@rentcar/platform";

const env = loadEnv("npm start", z.object({
  PORT: portSchema(4000),
  RESERVATION_PORT: portSchema(4001),
  PAYMENT_PORT: portSchema(4002),
  RENTAL_PORT: portSchema(4003),
  RESERVATION_DATABASE_URL: z.url().optional(),
  PAYMENT_DATABASE_URL: z.url().optional(),
  RENTAL_DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  DATA_DIR: z.string().optional(),
  JWT_SECRET: z.string().min(16).default(LOCAL_JWT_SECRET),
  LOG_LEVEL: z.string().default("info"),
}));

const print = (service: string, line: string) => console.log(formatServiceLine(service, line));
const startedAt = Date.now();
const stack = await startStack({
  ports: { router: env.PORT, reservation: env.RESERVATION_PORT, payment: env.PAYMENT_PORT, rental: env.RENTAL_PORT },
  databaseUrls: { reservation: env.RESERVATION_DATABASE_URL, payment: env.PAYMENT_DATABASE_URL, rental: env.RENTAL_DATABASE_URL },
  redisUrl: env.REDIS_URL,
  ...(env.DATA_DIR ? { dataDir: env.DATA_DIR } : {}),
  env: { JWT_SECRET: env.JWT_SECRET, LOG_LEVEL: env.LOG_LEVEL },
  onLine: print,
}).catch((error: Error) => {
  console.error(`\nnpm start failed: ${error.message}`);
  process.exit(1);
});

console.log(`
  Supergraph ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s

  Router:   ${stack.routerUrl}   (open it in a browser to try queries)
  Token:    npm run -s token -- alice    (then send "Authorization: Bearer <token>")
  Stop:     Ctrl-C
`);

// A closed terminal or pipe must not crash the orchestrator half-way through stopping.
process.stdout.on("error", () => {});
// Last resort if the orchestrator dies: services run in their own process groups, so end them here.
process.on("exit", () => {
  for (const service of stack.services) if (service.child.exitCode === null) service.child.kill("SIGTERM");
});

let stopping = false;
const stopAll = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  print("stack", `${signal}: stopping router, subgraphs, databases`);
  await stack.stop();
  print("stack", "stopped");
  process.exit(0);
};
process.on("SIGINT", () => void stopAll("SIGINT"));
process.on("SIGTERM", () => void stopAll("SIGTERM"));
// A closed terminal: stop cleanly too, or the services (own process groups) would outlive it.
process.on("SIGHUP", () => void stopAll("SIGHUP"));
for (const service of stack.services) {
  service.child.once("exit", (code) => {
    if (stopping) return;
    print("stack", `${service.name} exited unexpectedly (code ${code}); stopping the stack`);
    void stack.stop().then(() => process.exit(1));
  });
}
