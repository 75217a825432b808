/**
 * Restart delays for crashed services, as a process manager would: 1 s, 2 s, 4 s, …
 * capped at 30 s; a service that stayed up for a minute since its last restart starts
 * again from 1 s.
 */
export class RestartBackoff {
  private readonly attempts = new Map<string, number>();
  private readonly upSince = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly firstMs: number;
  private readonly maxMs: number;
  private readonly stableMs: number;
  private readonly now: () => number;

  constructor(firstMs = 1_000, maxMs = 30_000, stableMs = 60_000, now: () => number = Date.now) {
    this.firstMs = firstMs;
    this.maxMs = maxMs;
    this.stableMs = stableMs;
    this.now = now;
  }

  /** The delay before the next restart of `name`, in ms (and counts the attempt). */
  next(name: string): number {
    const since = this.upSince.get(name);
    if (since !== undefined && this.now() - since >= this.stableMs) this.attempts.delete(name);
    const attempt = this.attempts.get(name) ?? 0;
    this.attempts.set(name, attempt + 1);
    return Math.min(this.maxMs, this.firstMs * 2 ** attempt);
  }

  /** Records that `name` is up again (the stability clock starts). */
  startedAt(name: string): void {
    this.upSince.set(name, this.now());
  }

  /** Runs `fn` after `delayMs`, unless {@link cancelAll} is called first. */
  schedule(_name: string, delayMs: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void fn();
    }, delayMs);
    this.timers.add(timer);
  }

  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
