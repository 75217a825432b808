/**
 * `npm run bench [-- <scenario>...]`: starts the supergraph on the machine's PostgreSQL and
 * Redis (fresh databases, unique key prefix), warms it up, runs every scenario of
 * bench/scenarios/ (or the named ones) within its time budget and writes
 * bench/results/<date>.json and .md (BENCH_RESULTS_DIR to write elsewhere). BENCH_SMOKE=1: seconds, tiny loads.
 * Ctrl-C or SIGTERM stops the services and the peer gateway, drops the databases and
 * deletes the Redis keys before exiting (a second signal exits at once).
 */
import { Cleanup } from "../bench/src/cleanup.ts";
import { loadScenarios, runBench } from "../bench/src/run.ts";

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h") || args.includes("--list")) {
  const scenarios = await loadScenarios();
  console.log("usage: npm run bench [-- <scenario>...]   (BENCH_SMOKE=1 for a quick check)\n\nscenarios:");
  for (const s of scenarios) console.log(`  ${s.name.padEnd(22)} ${s.title} (≤ ${Math.round(s.budgetMs / 1000)} s)`);
  process.exit(0);
}

const cleanup = new Cleanup();
const controller = new AbortController();
const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
let exiting = false;

async function cleanUpAndExit(code: number): Promise<never> {
  const failed = await cleanup.runAll(15_000, (what) => say(`cleanup: ${what}`));
  for (const f of failed) say(`cleanup FAILED: ${f}`);
  process.exit(failed.length ? 1 : code);
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (exiting) {
      say(`${signal} again: exiting without finishing the cleanup`);
      process.exit(130);
    }
    exiting = true;
    say(`${signal}: stopping the scenario and cleaning up (send it again to exit at once)`);
    controller.abort(new Error(`interrupted by ${signal}`));
    void cleanUpAndExit(130);
  });
}

try {
  const report = await runBench({ only: args.filter((a) => !a.startsWith("-")), smoke: process.env.BENCH_SMOKE === "1", signal: controller.signal, cleanup, out: say, ...(process.env.BENCH_RESULTS_DIR ? { resultsDir: process.env.BENCH_RESULTS_DIR } : {}) });
  const errors = report.scenarios.reduce((n, s) => n + s.errorCount, 0);
  if (!exiting) {
    exiting = true;
    say(errors ? `finished with ${errors} error(s) (see the results)` : "finished without errors");
    await cleanUpAndExit(errors ? 1 : 0);
  }
} catch (error) {
  if (!exiting) {
    exiting = true;
    say(`bench failed: ${(error as Error).message}`);
    await cleanUpAndExit(1);
  }
}
