/**
 * The queue dashboard as a process of the local stack (`npm start` runs it on PORT+4).
 * Env: PORT, HOST (127.0.0.1), REDIS_URL, QUEUE_PREFIX, QUEUE_DASHBOARD_USER,
 * QUEUE_DASHBOARD_PASSWORD (the local default is refused when NODE_ENV=production).
 */
import { baseEnvSchema, LOCAL_DASHBOARD_PASSWORD, loadEnv, portSchema, z } from "@rentcar/platform";
import { startQueueDashboard } from "./queue-dashboard.ts";

const env = loadEnv("queue dashboard", baseEnvSchema.extend({
  PORT: portSchema(4004),
  HOST: z.string().default("127.0.0.1"),
  QUEUE_DASHBOARD_USER: z.string().min(1).default("operator"),
  QUEUE_DASHBOARD_PASSWORD: z.string().min(8).default(LOCAL_DASHBOARD_PASSWORD),
}).refine((e) => e.NODE_ENV !== "production" || e.QUEUE_DASHBOARD_PASSWORD !== LOCAL_DASHBOARD_PASSWORD, {
  path: ["QUEUE_DASHBOARD_PASSWORD"],
  message: "the local default password is not allowed in production",
}));

const dashboard = await startQueueDashboard({
  redisUrl: env.REDIS_URL,
  prefix: env.QUEUE_PREFIX,
  port: env.PORT,
  host: env.HOST,
  user: env.QUEUE_DASHBOARD_USER,
  password: env.QUEUE_DASHBOARD_PASSWORD,
});
const log = (msg: string) => console.log(JSON.stringify({ level: 30, time: Date.now(), service: "dashboard", msg }));
log(`queue dashboard listening on ${dashboard.url}`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    setTimeout(() => process.exit(1), 3_000).unref();
    void dashboard.close().then(() => {
      log("shutdown complete");
      process.exit(0);
    });
  });
}
