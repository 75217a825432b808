import type { Logger } from "pino";

/** A background job started by {@link startPeriodicTask}. */
export interface PeriodicTask {
  /** Stops scheduling and waits for a run in progress to finish. */
  close(): Promise<void>;
}

export interface PeriodicTaskOptions {
  /** Names the task in log lines. */
  name: string;
  /** Pause between the end of one run and the start of the next, in ms. */
  intervalMs: number;
  run(): Promise<unknown>;
  log: Logger;
}

/**
 * Runs `run` every `intervalMs` (first run after one interval), never overlapping itself. A
 * failing run is logged and simply tried again at the next tick, so a database that is briefly
 * away delays the work but never stops it. Timers are unref'd: they never keep a process alive.
 */
export function startPeriodicTask(options: PeriodicTaskOptions): PeriodicTask {
  const { name, intervalMs, run, log } = options;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = run()
      .then(() => undefined, (error: unknown) => log.warn({ task: name, err: error }, "periodic task failed; retrying at the next tick"))
      .finally(() => schedule());
  };
  const schedule = () => {
    if (!closed) timer = setTimeout(tick, intervalMs).unref();
  };
  schedule();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** One closable made of several, closed in order (e.g. a periodic task, then the event bus). */
export function closeAll(parts: { close(): Promise<void> }[]): { close(): Promise<void> } {
  return {
    async close() {
      for (const part of parts) await part.close();
    },
  };
}
