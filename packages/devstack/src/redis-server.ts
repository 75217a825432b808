import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import getPort from "get-port";
import { createRedisClient } from "@rentcar/platform";

/** Where the local stack's Redis comes from. */
export interface ResolvedRedis {
  url: string;
  source: "REDIS_URL" | "local" | "started";
  /** PID of the redis-server this stack started. */
  pid?: number;
  stop(): Promise<void>;
}

export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";

async function answersPing(url: string): Promise<boolean> {
  // REDIS_URL may name a Redis Cluster (redis+cluster://): the platform's factory handles both.
  const client = createRedisClient(url, { connectTimeoutMs: 1_000, reconnect: false });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * Finds Redis for the local stack: `REDIS_URL` when given (must answer), else the local
 * Redis at 127.0.0.1:6379, else a `redis-server` from PATH started on a free port with
 * its data (AOF) under `dataDir`.
 * @throws Error explaining how to provide Redis when none of these works.
 */
export async function resolveRedis(configuredUrl: string | undefined, dataDir: string): Promise<ResolvedRedis> {
  const none = async () => {};
  if (configuredUrl) {
    if (!(await answersPing(configuredUrl))) throw new Error(`REDIS_URL=${configuredUrl} does not answer PING`);
    return { url: configuredUrl, source: "REDIS_URL", stop: none };
  }
  if (await answersPing(LOCAL_REDIS_URL)) return { url: LOCAL_REDIS_URL, source: "local", stop: none };
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    throw new Error(
      "no Redis found: set REDIS_URL=redis://host:port, start Redis on 127.0.0.1:6379, or install redis-server (e.g. apt-get install redis-server)",
    );
  }
  const server = await startRedisServer(dataDir);
  return { url: server.url, source: "started", pid: server.pid, stop: server.stop };
}

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` from PATH on `port` (a free one by default) with AOF persistence
 * (`appendfsync always`) under `dataDir` and `maxmemory-policy noeviction`, as BullMQ
 * needs: restarted on the same port and dataDir, it comes back with every queued job.
 */
export async function startRedisServer(dataDir: string, port?: number): Promise<RedisServer> {
  mkdirSync(dataDir, { recursive: true });
  const listenPort = port ?? (await getPort());
  const child = spawn("redis-server", [
    "--bind", "127.0.0.1", "--port", String(listenPort), "--dir", dataDir,
    "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction",
  ], { stdio: "ignore", detached: true });
  const url = `redis://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not answer PING on ${url} within 10 s${child.exitCode !== null ? ` (exited with code ${child.exitCode})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: listenPort,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
