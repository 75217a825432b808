import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getPort } from "@rentcar/testkit";
import { BENCH_INTERNAL_SECRET, BENCH_JWT_SECRET, type BenchStack } from "./bench-stack.ts";
import type { Cleanup } from "./cleanup.ts";
import { waitFor } from "./load.ts";

const repoRoot = new URL("../../", import.meta.url);
const SUPERGRAPH = new URL("router/supergraph.graphql", repoRoot);
const HIVE_BIN = new URL("node_modules/@graphql-hive/gateway/dist/bin.js", repoRoot);
const CONFIG = new URL("../peer/hive-gateway.config.ts", import.meta.url);
/** Local URLs written into the committed supergraph by `npm run compose`. */
const COMPOSED_URLS = { reservation: "http://127.0.0.1:4001/graphql", payment: "http://127.0.0.1:4002/graphql", rental: "http://127.0.0.1:4003/graphql" } as const;

export interface PeerGateway {
  url: string;
  pid: number;
}

/**
 * Starts Hive Gateway as its own process serving the committed `router/supergraph.graphql`
 * (with the subgraph URLs of this bench stack put in place of the local defaults) with
 * bench/peer/hive-gateway.config.ts; waits for its readiness endpoint (60 s at most).
 * Stopped, and its temporary supergraph removed, by `cleanup`.
 */
export async function startHiveGateway(stack: BenchStack, cleanup: Cleanup, options: { dedup?: boolean } = {}): Promise<PeerGateway> {
  const dir = mkdtempSync(join(tmpdir(), "rentcar-bench-hive-"));
  cleanup.add("remove the peer gateway's supergraph copy", async () => rmSync(dir, { recursive: true, force: true }));
  let sdl = readFileSync(SUPERGRAPH, "utf8");
  for (const [name, url] of Object.entries(COMPOSED_URLS)) {
    if (!sdl.includes(url)) throw new Error(`router/supergraph.graphql no longer names ${url} for ${name}; update bench/src/peer-gateway.ts`);
    sdl = sdl.replaceAll(url, stack.subgraphUrls[name as keyof typeof COMPOSED_URLS]);
  }
  const supergraph = join(dir, "supergraph.graphql");
  writeFileSync(supergraph, sdl);
  const port = await getPort();
  let output = "";
  const child = spawn(process.execPath, [fileURLToPath(HIVE_BIN), "supergraph", supergraph, "--port", String(port), "--host", "127.0.0.1", "--config-path", fileURLToPath(CONFIG), "--disable-websockets"], {
    cwd: fileURLToPath(repoRoot),
    env: { ...process.env, BENCH_JWT_SECRET, BENCH_INTERNAL_SECRET, BENCH_PEER_DEDUP: options.dedup === false ? "0" : "1", NODE_ENV: "production", LOG_LEVEL: "warn", DEBUG: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "close");
  child.stdout.on("data", (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  child.stderr.on("data", (d: Buffer) => { output = (output + d.toString()).slice(-4000); });
  cleanup.add("stop the peer gateway", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitFor("Hive Gateway to answer on /readiness", async () => {
    if (child.exitCode !== null) throw new Error(`Hive Gateway exited with code ${child.exitCode}:\n${output}`);
    return fetch(`http://127.0.0.1:${port}/readiness`).then((r) => r.ok, () => false);
  }, 60_000);
  return { url, pid: child.pid! };
}
