import { runLoad, type LoadResult } from "./load.ts";
import type { ScenarioContext } from "./scenario.ts";
import { median } from "./stats.ts";

/** Median figures of one target over interleaved rounds. */
export interface TargetFigures {
  throughput: number;
  p50: number;
  p99: number;
}

/**
 * Runs the same closed-loop load against each target in turn, `rounds` times
 * (A B A B ...), so drift in the machine's other load hits both alike; records and
 * returns the median throughput, p50 and p99 of each target. Errors are counted on `ctx`.
 */
export async function compareInterleaved(
  ctx: ScenarioContext,
  label: string,
  options: { rounds: number; durationMs: number; concurrency: number },
  targets: Record<string, (worker: number, sequence: number) => Promise<string | undefined>>,
): Promise<Record<string, TargetFigures>> {
  const runs: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, task] of Object.entries(targets)) {
      const result = await runLoad({ concurrency: options.concurrency, durationMs: options.durationMs, signal: ctx.signal, task });
      runs[name]!.push(result);
      if (result.errorCount) for (const [message, count] of Object.entries(result.errors)) ctx.error(`${label} ${name}: ${message}`, count);
      ctx.log(`${label} ${name} round ${round + 1}: ${result.throughput.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
    }
  }
  const figures: Record<string, TargetFigures> = {};
  for (const [name, results] of Object.entries(runs)) {
    figures[name] = {
      throughput: round1(median(results.map((r) => r.throughput))),
      p50: round1(median(results.map((r) => r.latency.p50))),
      p99: round1(median(results.map((r) => r.latency.p99))),
    };
    ctx.record(`${label} ${name} throughput`, figures[name].throughput, "req/s");
    ctx.record(`${label} ${name} p50`, figures[name].p50, "ms");
    ctx.record(`${label} ${name} p99`, figures[name].p99, "ms");
  }
  return figures;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
