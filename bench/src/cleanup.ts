/**
 * Everything a bench run created, undone in reverse order: services, peer gateway,
 * databases, Redis keys. Runs once, from `finally` or from a signal handler, whichever
 * comes first; each step has a timeout so a stuck step cannot keep the rest from running.
 */
export class Cleanup {
  private readonly steps: { what: string; run: () => Promise<unknown> }[] = [];
  private done: Promise<string[]> | undefined;

  /** Registers an undo step (run last-in, first-out). */
  add(what: string, run: () => Promise<unknown>): void {
    if (this.done) void run().catch(() => {});
    else this.steps.push({ what, run });
  }

  /** Runs every step once; resolves with the steps that failed or timed out. */
  runAll(stepTimeoutMs = 15_000, onStep?: (what: string) => void): Promise<string[]> {
    this.done ??= (async () => {
      const failed: string[] = [];
      for (const step of this.steps.reverse()) {
        onStep?.(step.what);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${stepTimeoutMs} ms`)), stepTimeoutMs); });
        try {
          await Promise.race([step.run(), timeout]);
        } catch (error) {
          failed.push(`${step.what}: ${(error as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
      return failed;
    })();
    return this.done;
  }
}
