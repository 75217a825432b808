import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_URL } from "@rentcar/testkit";
import { countKeys } from "../src/bench-stack.ts";
import type { BenchReport } from "../src/report.ts";
import { loadScenarios } from "../src/run.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const resultsDir = mkdtempSync(join(tmpdir(), "rentcar-bench-"));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

/** Runs `npm run bench` as a user would (a real process), optionally interrupting it once `interruptAfter` is printed. */
function runBenchCli(args: string[], interruptAfter?: RegExp): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/bench.ts", ...args], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_SMOKE: "1", BENCH_RESULTS_DIR: resultsDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let interrupted = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (interruptAfter && !interrupted && interruptAfter.test(output)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`bench did not exit within 240 s:\n${output}`)); }, 240_000);
    child.on("close", (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

async function existingDatabases(names: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query("SELECT datname FROM pg_database WHERE datname = ANY($1)", [names])).rows.map((r) => r.datname as string);
  } finally {
    await client.end();
  }
}

const created = (output: string) => {
  const match = /databases (\S+), (\S+), (\S+); Redis key prefix (\S+)/.exec(output);
  if (!match) throw new Error(`bench did not print what it created:\n${output}`);
  return { databases: match.slice(1, 4), queuePrefix: match[4]! };
};

describe("npm run bench (BENCH_SMOKE=1)", () => {
  it("runs every scenario: each produces numbers and no errors; results are written and nothing is left behind", async () => {
    const { code, output } = await runBenchCli([]);
    const file = readdirSync(resultsDir).find((f) => f.endsWith("-smoke.json"));
    expect(file, output).toBeDefined();
    const report = JSON.parse(readFileSync(join(resultsDir, file!), "utf8")) as BenchReport;
    expect(readdirSync(resultsDir)).toContain(file!.replace(/\.json$/, ".md"));
    const names = (await loadScenarios()).map((s) => s.name);
    expect(report.scenarios.map((s) => s.name)).toEqual(["processes", ...names]);
    for (const scenario of report.scenarios) {
      expect({ scenario: scenario.name, errors: scenario.errors }).toEqual({ scenario: scenario.name, errors: {} });
      expect(scenario.metrics.length, scenario.name).toBeGreaterThan(0);
      for (const metric of scenario.metrics) expect(Number.isFinite(metric.value), `${scenario.name}: ${metric.name}`).toBe(true);
    }
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(code, output).toBe(0);
    expect(await existingDatabases(report.created.databases)).toEqual([]);
    expect(await countKeys(redisUrl, report.created.queuePrefix)).toBe(0);
  }, 300_000);

  it("Ctrl-C in the middle of a scenario stops the services, drops the databases and deletes the Redis keys", async () => {
    const { code, output } = await runBenchCli(["saga-write"], /\[saga-write\] c1 /);
    expect(output).toContain("SIGINT: stopping the scenario and cleaning up");
    expect(code, output).toBe(130);
    const { databases, queuePrefix } = created(output);
    expect(await existingDatabases(databases)).toEqual([]);
    expect(await countKeys(redisUrl, queuePrefix)).toBe(0);
    // The services were stopped: their ports no longer answer.
    for (const port of output.matchAll(/starting \w+ on port (\d+)/g)) {
      await expect(fetch(`http://127.0.0.1:${port[1]}/health/live`)).rejects.toThrow();
    }
  }, 300_000);
});
