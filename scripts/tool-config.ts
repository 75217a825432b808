import { ConfigError, type LocalStackConfig } from "@rentcar/platform/local-stack";

/**
 * Resolves a tool's configuration (packages/platform/src/local-stack-config.ts), printing
 * the one message listing every invalid variable and exiting 1 instead of throwing.
 */
export function toolConfig(tool: string, resolve: () => LocalStackConfig): LocalStackConfig {
  try {
    return resolve();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${tool}: ${error.message}`);
    process.exit(1);
  }
}

/** Exits the process on Ctrl-C / SIGTERM after `cleanup` (bounded by `timeoutMs`). */
export function exitOnSignals(cleanup: () => Promise<void>, timeoutMs = 5_000): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      setTimeout(() => process.exit(130), timeoutMs).unref();
      void cleanup().finally(() => process.exit(130));
    });
  }
}
