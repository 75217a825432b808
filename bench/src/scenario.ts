import type { BenchStack } from "./bench-stack.ts";
import type { Cleanup } from "./cleanup.ts";

/** One number a scenario measured; `name` is stable across runs so results can be compared. */
export interface Metric {
  name: string;
  value: number;
  /** `req/s`, `ms`, `MB`, `ratio`, `count`, ... */
  unit: string;
}

/** What `npm run bench` hands a scenario. */
export interface ScenarioContext {
  stack: BenchStack;
  /** BENCH_SMOKE=1: seconds and tiny loads; only "produced numbers, no errors" is checked. */
  smoke: boolean;
  /** Aborted on Ctrl-C/SIGTERM or when the scenario exceeds its time budget: stop at once. */
  signal: AbortSignal;
  /** The full-run value, or the smoke value in smoke mode. */
  pick<T>(full: T, smoke: T): T;
  /** A progress line (printed with the scenario name). */
  log(line: string): void;
  /** Records a measured number. */
  record(name: string, value: number, unit: string): void;
  /** Counts an error (a request that failed, a wrong result); the run fails if any is recorded. */
  error(message: string, count?: number): void;
  /** Undo steps for what the scenario started (peer gateway, subscriptions); run even on Ctrl-C. */
  cleanup: Cleanup;
}

/**
 * A bench scenario: `bench/scenarios/<name>.ts` exporting `scenario`. Runnable alone
 * with `npm run bench -- <name>`. It must finish within `budgetMs` (full mode) — the
 * runner aborts it after that plus a grace period — and every wait it does needs a timeout.
 */
export interface Scenario {
  /** Same as the file name. */
  name: string;
  /** One line: what it measures. */
  title: string;
  /** Upper bound of its full-mode duration in ms (smoke mode: a fifth, at least 30 s). */
  budgetMs: number;
  run(ctx: ScenarioContext): Promise<void>;
}

/** What one scenario produced. */
export interface ScenarioResult {
  name: string;
  title: string;
  durationMs: number;
  metrics: Metric[];
  errorCount: number;
  /** The first distinct error messages with their counts. */
  errors: Record<string, number>;
}
