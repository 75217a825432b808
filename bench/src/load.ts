import { summarize, type LatencySummary } from "./stats.ts";

export interface LoadOptions {
  /** Workers issuing requests back to back (closed loop). */
  concurrency: number;
  /** Stop starting new requests after this long (ms). */
  durationMs: number;
  /** Stop after this many requests in total (default: unbounded, only the duration counts). */
  maxRequests?: number;
  /** Aborts the run early (Ctrl-C, scenario timeout). */
  signal: AbortSignal;
  /**
   * One unit of work (a request, or a whole saga). Resolves with an error code to count an
   * error, undefined for success; a throw counts as an error with its message.
   */
  task(worker: number, sequence: number): Promise<string | undefined>;
}

export interface LoadResult {
  /** Completed units (successes and errors). */
  count: number;
  /** Units per second over the wall time. */
  throughput: number;
  wallMs: number;
  latency: LatencySummary;
  /** Errors by code or message. */
  errors: Record<string, number>;
  errorCount: number;
}

/**
 * Closed-loop load: `concurrency` workers each run `task` back to back until
 * `durationMs` (or `maxRequests`) is reached; in-flight units finish (each has its own
 * timeout), so the run is bounded by durationMs + one task timeout.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + options.durationMs;
  const more = () => !options.signal.aborted && performance.now() < deadline && (options.maxRequests === undefined || started < options.maxRequests);
  const worker = async (w: number) => {
    while (more()) {
      const sequence = started++;
      const s = performance.now();
      let failure: string | undefined;
      try {
        failure = await options.task(w, sequence);
      } catch (error) {
        failure = (error as Error).message.slice(0, 160);
      }
      latencies.push(performance.now() - s);
      if (failure) errors[failure] = (errors[failure] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  const wallMs = performance.now() - t0;
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
  return { count: latencies.length, throughput: latencies.length / (wallMs / 1000), wallMs, latency: summarize(latencies), errors, errorCount };
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Polls `probe` every `intervalMs` until it returns a truthy value.
 * @throws Error naming `what` it waited for when `timeoutMs` passes first.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs: number, signal?: AbortSignal, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: T | undefined;
  while (performance.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await sleep(intervalMs, signal);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)?.slice(0, 200)})`);
}

export interface OpenLoop {
  /** Stops starting new units and waits for in-flight ones (each bounded by its own timeout). */
  stop(): Promise<{ started: number; skipped: number; errors: Record<string, number>; errorCount: number; ratePerS: number }>;
}

/**
 * Open-loop load: starts `task` at a fixed rate regardless of how fast answers come (as
 * independent users would), with at most `maxInFlight` outstanding; a tick that finds the
 * cap reached is skipped and counted, never queued.
 */
export function startOpenLoop(options: { ratePerS: number; maxInFlight: number; task(sequence: number): Promise<string | undefined> }): OpenLoop {
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let skipped = 0;
  const t0 = performance.now();
  const intervalMs = 1000 / options.ratePerS;
  let next = t0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    while (next <= now) {
      next += intervalMs;
      if (inFlight.size >= options.maxInFlight) { skipped++; continue; }
      const sequence = started++;
      const unit = options.task(sequence).then(
        (failure) => { if (failure) errors[failure] = (errors[failure] ?? 0) + 1; },
        (error: Error) => { const m = error.message.slice(0, 160); errors[m] = (errors[m] ?? 0) + 1; },
      ).finally(() => inFlight.delete(unit));
      inFlight.add(unit);
    }
    timer = setTimeout(tick, Math.max(1, next - performance.now()));
  };
  let timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const elapsedS = (performance.now() - t0) / 1000;
      await Promise.all([...inFlight]);
      return { started, skipped, errors, errorCount: Object.values(errors).reduce((a, b) => a + b, 0), ratePerS: started / elapsedS };
    },
  };
}
