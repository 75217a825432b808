import { withTimeout } from "./timeout.ts";

/** A dependency the service needs to serve traffic (its database, Redis, ...). */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(): Promise<unknown>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, "ok" | string>;
}

const CHECK_TIMEOUT_MS = 2_000;

/** Runs every check concurrently (2 s timeout each); ready only if all pass. */
export async function checkReadiness(checks: ReadinessCheck[]): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async ({ name, check }) => {
    try {
      await withTimeout(check(), CHECK_TIMEOUT_MS);
      return [name, "ok"] as const;
    } catch (error) {
      return [name, `error: ${(error as Error).message}`] as const;
    }
  }));
  return { ready: results.every(([, status]) => status === "ok"), checks: Object.fromEntries(results) };
}
