// node scripts/measure-startup.ts <tree> <tsx|strip|js> [runs]
//
// Pod start time and memory of each service, as k8s/README.md reports them: runs
// `node [--import tsx] <entry>` from <tree> (a production tree written by
// `scripts/image-build.sh runtime`, or a development checkout for tsx; `js` runs the
// `.js` files `tsc` emitted next to the sources, for comparison) with
// NODE_ENV=production against the local PostgreSQL and Redis, and prints, per service,
// the milliseconds from spawn until /health/ready answers 200, the CPU time the process
// used until then (user + system; stable on a busy machine, unlike wall time) and its RSS.
// Services start one at a time (nothing else competes); the median of `runs` is printed.
// A `js` tree for comparison: copy a production tree, add a tsconfig that extends
// tsconfig.json with {"noEmit": false, "noCheck": true, "rewriteRelativeImportExtensions": true,
// "types": []} over packages/*/src, subgraphs/*/src, router/src and scripts, run `tsc -p` on
// it, and point the workspaces' package.json `exports` at ./src/index.js.
// Uses throwaway databases (rentcar_measure_*) and a unique queue prefix; drops them after.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const [tree, mode, runsArg] = process.argv.slice(2);
if (!tree || (mode !== "tsx" && mode !== "strip" && mode !== "js")) {
  process.stderr.write("usage: node scripts/measure-startup.ts <tree> <tsx|strip|js> [runs]\n");
  process.exit(2);
}
const runs = Number(runsArg ?? 3);
const id = randomBytes(4).toString("hex");
const subgraphs = ["reservation", "payment", "rental"] as const;
const dbUrl = (name: string) => `postgresql://postgres@127.0.0.1:5432/rentcar_measure_${name}_${id}`;
const nodeArgs = mode === "tsx" ? ["--import", "tsx"] : [];

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const ports = { router: await freePort(), reservation: await freePort(), payment: await freePort(), rental: await freePort() };
const common = {
  NODE_ENV: "production", LOG_LEVEL: "warn", REDIS_URL: "redis://127.0.0.1:6379", QUEUE_PREFIX: `rentcar-measure-${id}`,
  JWT_SECRET: "measure-jwt-secret-0123456789", INTERNAL_SECRET: "measure-internal-secret-0123456789",
  PAYMENT_URL: `http://127.0.0.1:${ports.payment}/graphql`,
};
const envOf: Record<string, Record<string, string>> = {
  reservation: { PORT: String(ports.reservation), DATABASE_URL: dbUrl("reservation") },
  payment: { PORT: String(ports.payment), DATABASE_URL: dbUrl("payment") },
  rental: { PORT: String(ports.rental), DATABASE_URL: dbUrl("rental") },
  router: {
    PORT: String(ports.router), RESERVATION_URL: `http://127.0.0.1:${ports.reservation}/graphql`,
    RENTAL_URL: `http://127.0.0.1:${ports.rental}/graphql`,
  },
};
const extension = mode === "js" ? "js" : "ts";
const entryOf = (name: string) => (name === "router" ? `router/src/main.${extension}` : `subgraphs/${name}/src/main.${extension}`);

for (const name of subgraphs) {
  const migrate = spawnSync(process.execPath, [...nodeArgs, `scripts/db-migrate.${extension}`, name], { cwd: tree, env: { ...process.env, ...common, ...envOf[name] }, encoding: "utf8", timeout: 120_000 });
  if (migrate.status !== 0) throw new Error(`migrate ${name}: ${migrate.stderr}`);
}

async function startOnce(name: string): Promise<{ ms: number; cpuMs: number; rssMiB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, entryOf(name)], { cwd: tree, env: { ...process.env, ...common, ...envOf[name] }, stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${envOf[name]!.PORT}/health/ready`;
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} within 60 s`);
      if (await fetch(url).then((r) => r.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ms = performance.now() - started;
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]);
    // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 per second on Linux).
    const procStat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
    const stat = procStat.slice(procStat.lastIndexOf(")") + 2).split(" ");
    const cpuMs = (Number(stat[11]) + Number(stat[12])) * 10;
    return { ms, cpuMs, rssMiB: rssKiB / 1024 };
  } finally {
    const exited = new Promise((resolve) => child.once("close", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    child.kill("SIGKILL");
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`${mode} (${process.version}), ${tree}, median of ${runs}`);
for (const name of [...subgraphs, "router"]) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await startOnce(name));
  const ms = median(samples.map((s) => s.ms)).toFixed(0).padStart(5);
  const cpuMs = median(samples.map((s) => s.cpuMs)).toFixed(0).padStart(5);
  const rss = median(samples.map((s) => s.rssMiB)).toFixed(0).padStart(4);
  console.log(`${name.padEnd(12)} ready in ${ms} ms   CPU ${cpuMs} ms   RSS ${rss} MiB`);
}

for (const name of subgraphs) spawnSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-qc", `DROP DATABASE IF EXISTS rentcar_measure_${name}_${id}`]);
spawnSync("sh", ["-c", `redis-cli -h 127.0.0.1 --scan --pattern 'rentcar-measure-${id}*' | xargs -r redis-cli -h 127.0.0.1 del >/dev/null`]);
