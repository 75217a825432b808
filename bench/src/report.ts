import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MachineInfo } from "./machine.ts";
import type { ScenarioResult } from "./scenario.ts";

/** A whole bench run as written to `bench/results/<date>.json`. */
export interface BenchReport {
  startedAt: string;
  durationMs: number;
  smoke: boolean;
  machine: MachineInfo;
  /** The git commit measured, when known. */
  commit?: string;
  /** What the run created (and its cleanup removed): database names and the Redis key prefix. */
  created: { databases: string[]; queuePrefix: string };
  scenarios: ScenarioResult[];
}

const format = (value: number) => (Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2));

/** The Markdown table of a run: machine first, then one row per metric. */
export function markdownReport(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `## Bench ${report.startedAt}${report.smoke ? " (smoke mode: tiny loads, numbers are not comparable)" : ""}`,
    "",
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM (${m.freeMemoryGiB} GiB free), Node ${m.nodeVersion}, ${m.platform}; ` +
      `load average at start ${m.loadAverage1m}${m.postgres ? `; ${m.postgres}` : ""}${m.redis ? `; Redis ${m.redis}` : ""}` +
      `${report.commit ? `; commit ${report.commit.slice(0, 10)}` : ""}; run took ${(report.durationMs / 1000).toFixed(0)} s.`,
    "",
    "| scenario | metric | value | unit |",
    "|---|---|---:|---|",
  ];
  for (const s of report.scenarios) {
    for (const metric of s.metrics) lines.push(`| ${s.name} | ${metric.name} | ${format(metric.value)} | ${metric.unit} |`);
    if (s.errorCount) lines.push(`| ${s.name} | **errors** | ${s.errorCount} | ${Object.entries(s.errors).map(([k, v]) => `${v}× ${k}`).join("; ").replaceAll("|", "/").slice(0, 300)} |`);
  }
  return `${lines.join("\n")}\n`;
}

/** Writes `<dir>/<date>.json` and `<dir>/<date>.md`; returns both paths. */
export function writeReport(report: BenchReport, dir: string): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replaceAll(":", "-").replace(/\.\d+Z$/, "Z");
  const base = join(dir, `${stamp}${report.smoke ? "-smoke" : ""}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdownReport(report));
  return { json: `${base}.json`, markdown: `${base}.md` };
}
