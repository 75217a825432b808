import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPort } from "@rentcar/devstack";

/** A throwaway Redis Cluster on loopback ports (see {@link startRedisCluster}). */
export interface LocalRedisCluster {
  /** The seed URL services get: `redis+cluster://127.0.0.1:<first port>`. */
  url: string;
  ports: number[];
  /** Stops every node (SIGTERM, then SIGKILL after 5 s) and deletes their directories. */
  stop(): Promise<void>;
}

const WAIT_MS = 20_000;

/**
 * Starts `masters` (default 3) `redis-server --cluster-enabled yes` processes from PATH on
 * free loopback ports, each in its own temporary directory with no persistence, joins
 * them with `redis-cli --cluster create ... --cluster-replicas 0` and waits for
 * `cluster_state:ok` on every node.
 * @throws Error naming the step that failed (and stops whatever already started).
 */
export async function startRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "rentcar-redis-cluster-"));
  const ports: number[] = [];
  const nodes: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map(async (node) => {
      if (node.exitCode !== null || node.signalCode !== null) return;
      const exited = once(node, "exit");
      node.kill("SIGTERM");
      const timer = setTimeout(() => node.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await getPort();
      ports.push(port);
      const node = spawn("redis-server", [
        "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
        "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "5000",
        "--dir", dir, "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
      ], { stdio: "ignore" });
      nodes.push(node);
      await waitFor(`redis-server on port ${port} to answer PING`, () => redisCli(port, "ping") === "PONG");
    }
    const create = spawnSync("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], {
      encoding: "utf8", timeout: WAIT_MS,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    for (const port of ports) {
      await waitFor(`cluster_state:ok on port ${port}`, () => redisCli(port, "cluster", "info").includes("cluster_state:ok"));
    }
    return { url: `redis+cluster://127.0.0.1:${ports[0]}`, ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function redisCli(port: number, ...args: string[]): string {
  return spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { encoding: "utf8", timeout: 5_000 }).stdout?.trim() ?? "";
}

async function waitFor(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
