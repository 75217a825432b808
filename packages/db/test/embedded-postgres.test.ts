import { chmod } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ensureDatabase, migrateDatabase, migrationsDirFor, startEmbeddedPostgres, type EmbeddedPostgres } from "../src/index.ts";
import { freePort, insertReservation, query, scratchSpace } from "./helpers.ts";

const scratch = scratchSpace();
const servers: EmbeddedPostgres[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await scratch.cleanup();
});

/** A fresh data directory under a temp folder the `postgres` user can traverse (the server runs as it when we are root). */
async function dataDir(): Promise<string> {
  const dir = await scratch.dir("embedded-pg");
  await chmod(dir, 0o755);
  return path.join(dir, "data");
}

async function start(dir: string): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
  servers.push(server);
  return server;
}

describe("startEmbeddedPostgres", () => {
  it("migrates, enforces the exclusion constraint (btree_gist), and keeps data across a restart on the same dataDir", async () => {
    const dir = await dataDir();
    const migrationsDir = migrationsDirFor("reservation");

    const first = await start(dir);
    expect(first.initialised).toBe(true);
    const url = first.urlFor("rentcar_reservation");
    expect(url).toBe(`postgresql://postgres@127.0.0.1:${first.port}/rentcar_reservation`);
    expect(await ensureDatabase(url)).toBe(true);
    const { applied } = await migrateDatabase({ databaseUrl: url, migrationsDir });
    expect(applied.length).toBeGreaterThan(0);
    const [kept] = await insertReservation(url, "car-1", "2030-01-01T10:00Z", "2030-01-05T10:00Z");
    await expect(insertReservation(url, "car-1", "2030-01-02T10:00Z", "2030-01-03T10:00Z")).rejects.toMatchObject({ code: "23P01" });
    await first.stop();

    const second = await start(dir);
    expect(second.initialised).toBe(false);
    const again = second.urlFor("rentcar_reservation");
    expect(await ensureDatabase(again)).toBe(false);
    expect(await query(again, "SELECT id FROM reservation")).toEqual([{ id: kept!.id }]);
    expect((await migrateDatabase({ databaseUrl: again, migrationsDir })).applied).toEqual([]);
    await second.stop();
  });

  it("serves many concurrent connections, one database per name", async () => {
    const server = await start(await dataDir());
    const pool = new pg.Pool({ connectionString: server.urlFor("postgres"), max: 8 });
    try {
      // Eight sessions held open at once: each sleeps while the others run.
      const pids = await Promise.all(Array.from({ length: 8 }, () => pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.2)")));
      expect(new Set(pids.map((r) => r.rows[0]!.pid)).size).toBe(8);
    } finally {
      await pool.end();
    }
    await Promise.all(["a", "b"].map((name) => ensureDatabase(server.urlFor(`db_${name}`))));
    expect((await query(server.urlFor("postgres"), "SELECT datname FROM pg_database WHERE datname LIKE 'db\\_%' ORDER BY 1")).map((r) => r.datname)).toEqual(["db_a", "db_b"]);
    await server.stop();
  });

  it("shuts down a server left running on the same dataDir (its owner was killed) before starting", async () => {
    const dir = await dataDir();
    const orphan = await start(dir); // never stopped by its owner, as after a SIGKILL
    const next = await start(dir);
    expect(next.pid).not.toBe(orphan.pid);
    expect(() => process.kill(orphan.pid, 0)).toThrow();
    expect(await query(next.urlFor("postgres"), "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await next.stop();
  });
});
