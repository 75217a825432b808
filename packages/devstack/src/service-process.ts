import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr), for test diagnostics. */
  output(): string;
  /**
   * Sends `signal` (SIGTERM: graceful) and resolves with the exit code (null if killed by
   * a signal). If it has not exited after `killAfterMs` (default 15 000), its whole process
   * group gets SIGKILL.
   */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

export interface StartProcessOptions {
  name: string;
  /** TypeScript module to run, relative to `cwd` (e.g. `router/src/main.ts`). */
  entry: string;
  /** Directory to run in; default the repository root. */
  cwd?: string | URL;
  /**
   * Node options before the entry; default `--import tsx` (development). A production
   * tree has no tsx: pass `[]` and Node 24 strips the types itself, as in the image.
   */
  nodeArgs?: string[];
  env: Record<string, string>;
  /** Polled until it answers 200. */
  readyUrl: string;
  readyTimeoutMs?: number;
  /** Receives each line the process prints. */
  onLine?(line: string): void;
}

export const repoRoot = new URL("../../../", import.meta.url);

/**
 * Spawns a service as a real process (`node --import tsx <entry>` unless `nodeArgs`) in its own process
 * group (so a terminal Ctrl-C reaches only the orchestrator, which stops services in
 * order) and waits until its readiness URL answers 200.
 * @throws Error with the process output when it exits or is not ready in time.
 */
export async function startProcess(options: StartProcessOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? ["--import", "tsx"]), options.entry], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on("line", (line) => {
      output += `${line}\n`;
      options.onLine?.(line);
    });
  }
  // "close" (not "exit"): it fires after the last output line has been read.
  const exited = once(child, "close").then(([code]) => code as number | null);
  const service: ServiceProcess = {
    name: options.name,
    child,
    output: () => output,
    async stop(signal = "SIGTERM", killAfterMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => killGroup(child), killAfterMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  await waitUntilReady(service, options.readyUrl, options.readyTimeoutMs ?? 60_000);
  return service;
}

/** SIGKILL to the child's process group (it runs detached, so the group is its own: tsx's esbuild goes too). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

async function waitUntilReady(service: ServiceProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with code ${service.child.exitCode} before becoming ready:\n${service.output()}`);
    }
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.stop("SIGKILL");
  throw new Error(`${service.name} not ready at ${url} within ${timeoutMs} ms:\n${service.output()}`);
}
