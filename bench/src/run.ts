import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Redis } from "ioredis";
import { startBenchStack, type BenchStack } from "./bench-stack.ts";
import { Cleanup } from "./cleanup.ts";
import { runLoad } from "./load.ts";
import { cpuMs, machineInfo, rssMb } from "./machine.ts";
import { writeReport, type BenchReport } from "./report.ts";
import type { Metric, Scenario, ScenarioContext, ScenarioResult } from "./scenario.ts";
import { errorCodeOf } from "./http.ts";
import { ADMIN_URL } from "@rentcar/testkit";
import { databaseNameOf } from "@rentcar/db";

export const SCENARIOS_DIR = new URL("../scenarios/", import.meta.url);
export const RESULTS_DIR = fileURLToPath(new URL("../results/", import.meta.url));

export interface BenchOptions {
  /** Scenario names to run (default: all, in file-name order). */
  only?: string[];
  smoke: boolean;
  /** Ctrl-C / SIGTERM: the current scenario stops, cleanup runs. */
  signal: AbortSignal;
  /** Receives every undo step; the caller runs it (also from its signal handler). */
  cleanup: Cleanup;
  /** Where `<date>.json` and `<date>.md` go (default bench/results; undefined `write` = write). */
  resultsDir?: string;
  write?: boolean;
  out(line: string): void;
}

/** Every scenario in `bench/scenarios/`, sorted by name. */
export async function loadScenarios(): Promise<Scenario[]> {
  const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith(".ts")).sort();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const module = (await import(new URL(file, SCENARIOS_DIR).href)) as { scenario?: Scenario };
    if (!module.scenario || module.scenario.name !== file.replace(/\.ts$/, "")) {
      throw new Error(`bench/scenarios/${file} must export \`scenario\` whose name is "${file.replace(/\.ts$/, "")}"`);
    }
    scenarios.push(module.scenario);
  }
  return scenarios;
}

/**
 * Runs the bench: starts the stack (real PostgreSQL and Redis), warms it up, runs each
 * selected scenario within its time budget, measures RSS of every process idle and after,
 * and writes the JSON and Markdown results. Cleanup steps go to `options.cleanup`
 * (the caller runs them, in `finally` and on signals).
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const all = await loadScenarios();
  const unknown = (options.only ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; available: ${all.map((s) => s.name).join(", ")}`);
  const selected = options.only?.length ? all.filter((s) => options.only!.includes(s.name)) : all;
  const machine = { ...machineInfo(), ...(await serverVersions()) };
  options.out(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.nodeVersion}, load ${machine.loadAverage1m}`);
  options.out(`scenarios: ${selected.map((s) => s.name).join(", ")}${options.smoke ? " (smoke mode)" : ""}`);

  const stackStart = performance.now();
  options.out("starting the stack (fresh databases on PostgreSQL, unique Redis prefix)...");
  const stack = await startBenchStack({
    cleanup: options.cleanup,
    // Stack progress always; service output (LOG_LEVEL=warn) only with BENCH_VERBOSE=1.
    onLine: (service, line) => { if (service === "stack" || process.env.BENCH_VERBOSE === "1") options.out(`${service}: ${line}`); },
    onCreated: (created) => options.out(`databases ${created.databases.join(", ")}; Redis key prefix ${created.queuePrefix}`),
  });
  const results: ScenarioResult[] = [];
  const processMetrics: Metric[] = [{ name: "stack start", value: round((performance.now() - stackStart) / 1000), unit: "s" }];
  options.out(`stack ready in ${processMetrics[0]!.value} s; warming up...`);
  const warmup = await warmUp(stack, options);
  processMetrics.push(...warmup);
  for (const p of stack.processes()) processMetrics.push({ name: `RSS idle ${p.name}`, value: rssMb(p.pid) ?? Number.NaN, unit: "MB" });

  for (const scenario of selected) {
    if (options.signal.aborted) break;
    results.push(await runScenario(scenario, stack, options));
  }
  for (const p of stack.processes()) processMetrics.push({ name: `RSS after ${p.name}`, value: rssMb(p.pid) ?? Number.NaN, unit: "MB" });
  results.unshift({ name: "processes", title: "stack start, warm-up, RSS of every process idle (after warm-up) and after the run", durationMs: 0, metrics: processMetrics, errorCount: warmup.length ? 0 : 1, errors: {} });

  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    smoke: options.smoke,
    machine,
    ...gitCommit(),
    created: { databases: Object.values(stack.databaseUrls).map(databaseNameOf), queuePrefix: stack.queuePrefix },
    scenarios: results,
  };
  if (options.write !== false) {
    const paths = writeReport(report, options.resultsDir ?? RESULTS_DIR);
    options.out(`results: ${paths.json}\n         ${paths.markdown}`);
  }
  return report;
}

/** Runs one scenario with its own abort signal (Ctrl-C or budget exceeded) and records CPU per process. */
async function runScenario(scenario: Scenario, stack: BenchStack, options: BenchOptions): Promise<ScenarioResult> {
  const budgetMs = options.smoke ? Math.max(30_000, scenario.budgetMs / 5) : scenario.budgetMs;
  const graceMs = 30_000;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener("abort", onAbort, { once: true });
  const metrics: Metric[] = [];
  const errors: Record<string, number> = {};
  let errorCount = 0;
  const cleanup = new Cleanup();
  options.cleanup.add(`clean up after scenario ${scenario.name}`, () => cleanup.runAll());
  const say = (line: string) => options.out(`[${scenario.name}] ${line}`);
  const ctx: ScenarioContext = {
    stack,
    smoke: options.smoke,
    signal: controller.signal,
    pick: (full, smoke) => (options.smoke ? smoke : full),
    log: say,
    record: (name, value, unit) => {
      metrics.push({ name, value, unit });
      say(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}`);
    },
    error: (message, count = 1) => {
      errorCount += count;
      const key = message.slice(0, 200);
      errors[key] = (errors[key] ?? 0) + count;
    },
    cleanup,
  };
  say(`${scenario.title} (budget ${Math.round(budgetMs / 1000)} s)`);
  const cpuBefore = new Map(stack.processes().map((p) => [p.pid, cpuMs(p.pid)]));
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const overBudget = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`scenario ${scenario.name} exceeded its budget of ${budgetMs + graceMs} ms and was stopped`);
      controller.abort(error);
      reject(error);
    }, budgetMs + graceMs);
  });
  try {
    await Promise.race([scenario.run(ctx), overBudget]);
  } catch (error) {
    ctx.error(controller.signal.aborted && options.signal.aborted ? "interrupted" : (error as Error).message);
    say(`failed: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", onAbort);
    controller.abort(new Error("scenario finished"));
    const failed = await cleanup.runAll();
    for (const f of failed) ctx.error(`cleanup: ${f}`);
  }
  const durationMs = performance.now() - t0;
  // CPU of each process during the scenario, in % of one core: which process limited the numbers.
  for (const p of stack.processes()) {
    const before = cpuBefore.get(p.pid);
    const after = cpuMs(p.pid);
    if (before !== undefined && after !== undefined) metrics.push({ name: `CPU ${p.name}`, value: round((100 * (after - before)) / durationMs), unit: "% of a core" });
  }
  if (errorCount) say(`${errorCount} error(s): ${JSON.stringify(errors).slice(0, 400)}`);
  return { name: scenario.name, title: scenario.title, durationMs: Math.round(durationMs), metrics, errorCount, errors };
}

/**
 * Warm-up: JIT, connection pools and query plans of every process, so the first scenario
 * does not pay for them: `cars` and a few reserve + pay sagas through the router.
 */
async function warmUp(stack: BenchStack, options: BenchOptions): Promise<Metric[]> {
  const auth = await stack.auth("bench-warmup");
  const result = await runLoad({
    concurrency: 4,
    durationMs: options.smoke ? 1_000 : 5_000,
    signal: options.signal,
    async task(_worker, i) {
      if (i % 2) return errorCodeOf(await stack.router.post("{ cars { id model dailyRate } }"));
      const reserved = await stack.router.post<{ reserveCar: { id: string } }>(
        "mutation Reserve($input: ReserveCarInput!) { reserveCar(input: $input) { id } }", { input: stack.nextSlot() }, auth);
      const code = errorCodeOf(reserved);
      if (code) return code;
      return errorCodeOf(await stack.router.post("mutation Pay($input: PayReservationInput!) { payReservation(input: $input) { status } }",
        { input: { reservationId: reserved.data!.reserveCar.id, cardNumber: "4242424242424242" } }, auth));
    },
  });
  if (result.errorCount) throw new Error(`warm-up failed: ${JSON.stringify(result.errors)}`);
  return [{ name: "warm-up requests", value: result.count, unit: "count" }];
}

async function serverVersions(): Promise<{ postgres?: string; redis?: string }> {
  const out: { postgres?: string; redis?: string } = {};
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    out.postgres = String((await client.query("SELECT split_part(version(), ' on ', 1) AS v")).rows[0].v);
  } catch { /* reported as unknown */ } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1, connectTimeout: 3_000, lazyConnect: true });
  redis.on("error", () => {});
  try {
    await redis.connect();
    out.redis = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1];
  } catch { /* unknown */ } finally {
    redis.disconnect();
  }
  return out;
}

function gitCommit(): { commit?: string } {
  try {
    return { commit: execFileSync("git", ["rev-parse", "HEAD"], { cwd: fileURLToPath(new URL("../..", import.meta.url)), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() };
  } catch {
    return {};
  }
}

const round = (v: number) => Math.round(v * 10) / 10;
