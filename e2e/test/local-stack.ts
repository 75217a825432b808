import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A real `npm start` (the command a user types), on its own ports, data folder and queue prefix. */
export interface NpmStart {
  /** Router port; the others are PORT+1 … PORT+5 (reservation, payment, rental, dashboard, PostgreSQL). */
  port: number;
  dataDir: string;
  queuePrefix: string;
  /** Env for tools (`npm run watch`, ...) pointing at this stack the way a user's checkout would (same DATA_DIR). */
  toolEnv: NodeJS.ProcessEnv;
  npm: ChildProcess;
  output(): string;
  /** Resolves once `text` appears in the output after `from` (an earlier output length). */
  waitForOutput(text: string | RegExp, timeoutMs?: number, from?: number): Promise<void>;
  /** Stops it (SIGTERM to npm) if still running, removes its data folder and queue keys. */
  cleanup(): Promise<void>;
}

/** Ports `base` … `base+count-1` free on 127.0.0.1. */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Starts `npm start` and waits (up to `readyTimeoutMs`) for its "Supergraph ready" block. */
export async function startNpmStart(extraEnv: Record<string, string> = {}, readyTimeoutMs = 120_000): Promise<NpmStart> {
  const port = await freePortBlock(6);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "rentcar-npm-start-"));
  await chmod(scratch, 0o755); // the embedded PostgreSQL runs as user postgres when we are root
  const dataDir = path.join(scratch, "data");
  const queuePrefix = `rentcar-e2e-start-${randomBytes(4).toString("hex")}`;
  const toolEnv = { ...process.env, DATA_DIR: dataDir, PORT: undefined, QUEUE_PREFIX: undefined, REDIS_URL: undefined };
  const npm = spawn("npm", ["start"], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, QUEUE_PREFIX: queuePrefix, REDIS_URL, LOG_LEVEL: "info", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: the test signals npm alone, as a process manager would
  });
  let output = "";
  const listeners = new Set<() => void>();
  for (const stream of [npm.stdout!, npm.stderr!]) {
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      listeners.forEach((fn) => fn());
    });
  }
  const waitForOutput = (text: string | RegExp, timeoutMs = 30_000, from = 0) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => (typeof text === "string" ? output.slice(from).includes(text) : text.test(output.slice(from)));
      if (seen()) return resolve();
      const check = () => {
        if (!seen()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`npm start: "${text}" not printed within ${timeoutMs} ms; output:\n${output.slice(-4_000)}`));
      }, timeoutMs);
      listeners.add(check);
    });
  const stack: NpmStart = {
    port,
    dataDir,
    queuePrefix,
    toolEnv,
    npm,
    output: () => output,
    waitForOutput,
    async cleanup() {
      if (npm.exitCode === null && npm.signalCode === null) {
        npm.kill("SIGTERM");
        await Promise.race([once(npm, "exit"), new Promise((r) => setTimeout(r, 15_000))]);
      }
      await deleteQueueKeys(queuePrefix);
      await rm(scratch, { recursive: true, force: true });
    },
  };
  try {
    await waitForOutput("Supergraph ready in", readyTimeoutMs);
  } catch (error) {
    await stack.cleanup();
    throw error;
  }
  return stack;
}

/** Removes every Redis key of this stack's queues (BullMQ keys start with `<prefix>:`). */
export async function deleteQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** PID of the process listening on 127.0.0.1:`port`, if any (via `ss`). */
export function listenerPid(port: number): number | undefined {
  const out = spawnSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" }).stdout;
  const match = /pid=(\d+)/.exec(out);
  return match ? Number(match[1]) : undefined;
}

/** Runs an npm script (`npm run -s <args>`) to completion; resolves with its exit code and output. */
export async function runTool(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn("npm", ["run", "-s", ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
