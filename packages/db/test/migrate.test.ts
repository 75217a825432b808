import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ensureDatabase,
  listMigrationNames,
  migrateDatabase,
  MIGRATION_LOCK_KEY,
  migrationsDirFor,
  SUBGRAPHS,
} from "../src/index.ts";
import { adminUrl, scratchSpace, migrationsCopy, query } from "./helpers.ts";

const scratch = scratchSpace();
afterAll(() => scratch.cleanup());

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const migrationRows = (url: string) =>
  query<MigrationRow>(url, "SELECT * FROM _prisma_migrations ORDER BY migration_name, started_at");

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

/** Polls pg_locks for sessions waiting on the migration lock; `stop()` resolves with how many polls saw one. */
function watchMigrationLockWaits() {
  let running = true;
  let waits = 0;
  const sql = "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted";
  const loop = (async () => {
    while (running) {
      waits += (await query(adminUrl, sql, [MIGRATION_LOCK_KEY])).length > 0 ? 1 : 0;
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return waits;
    },
  };
}

describe.each(SUBGRAPHS)("migrateDatabase(%s)", (name) => {
  const url = scratch.database();
  const migrationsDir = migrationsDirFor(name);

  it("creates the database, applies every migration and records it like prisma migrate deploy", async () => {
    expect(await ensureDatabase(url)).toBe(true);
    const names = await listMigrationNames(migrationsDir);
    expect(names.length).toBeGreaterThan(0);

    const { applied } = await migrateDatabase({ databaseUrl: url, migrationsDir });

    expect(applied).toEqual(names);
    const rows = await migrationRows(url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      expect(row.checksum).toBe(await sha256(path.join(migrationsDir, row.migration_name, "migration.sql")));
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
    const tables = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(tables.length).toBeGreaterThan(1);
  });

  it("applies nothing the second time and leaves the history untouched", async () => {
    const before = await migrationRows(url);
    expect(await ensureDatabase(url)).toBe(false);

    const { applied } = await migrateDatabase({ databaseUrl: url, migrationsDir });

    expect(applied).toEqual([]);
    expect(await migrationRows(url)).toEqual(before);
  });
});

describe("migrateDatabase edge cases", () => {
  it("runs a migration as one script: ';' inside strings and comments is fine", async () => {
    const url = scratch.database();
    await ensureDatabase(url);
    const dir = await migrationsCopy(await scratch.dir("migrations"), migrationsDirFor("payment"), {
      "20990101000000_semicolons": "-- a comment; with a semicolon\nCOMMENT ON TABLE payment IS 'paid; refunded';\n",
    });

    const { applied } = await migrateDatabase({ databaseUrl: url, migrationsDir: dir });

    expect(applied.at(-1)).toBe("20990101000000_semicolons");
    const [comment] = await query<{ c: string }>(url, "SELECT obj_description('payment'::regclass) AS c");
    expect(comment?.c).toBe("paid; refunded");
  });

  it("rolls back a failing migration as a whole and records it as failed", async () => {
    const url = scratch.database();
    await ensureDatabase(url);
    const dir = await migrationsCopy(await scratch.dir("migrations"), migrationsDirFor("payment"), {
      "20990101000000_broken": "CREATE TABLE half_done (id int);\nINSERT INTO no_such_table VALUES (1);\n",
    });

    await expect(migrateDatabase({ databaseUrl: url, migrationsDir: dir })).rejects.toThrow(/20990101000000_broken/);

    const failed = (await migrationRows(url)).find((row) => row.migration_name === "20990101000000_broken");
    expect(failed).toMatchObject({ finished_at: null, applied_steps_count: 0, rolled_back_at: null });
    expect(failed?.logs).toContain("no_such_table");
    const [table] = await query<{ t: string | null }>(url, "SELECT to_regclass('half_done')::text AS t");
    expect(table?.t).toBeNull();
  });

  it("tolerates concurrent ensureDatabase calls: exactly one creates", async () => {
    const url = scratch.database();
    const created = await Promise.all(Array.from({ length: 4 }, () => ensureDatabase(url)));
    expect(created.filter(Boolean)).toHaveLength(1);
  });

  it("serialises two processes migrating one database at once: each migration is applied once", async () => {
    const url = scratch.database();
    // A slow last migration makes the two runs overlap.
    const dir = await migrationsCopy(await scratch.dir("migrations"), migrationsDirFor("reservation"), {
      "20990101000000_slow": "SELECT pg_sleep(1);\nCREATE TABLE slow_marker (id int);\n",
    });
    const names = await listMigrationNames(dir);
    const child = path.join(import.meta.dirname, "fixtures", "migrate-child.ts");
    const run = () => promisify(execFile)(process.execPath, ["--import", "tsx", child, url, dir], { timeout: 60_000 });

    const lockWaits = watchMigrationLockWaits();

    const outputs = await Promise.all([run(), run()]);

    expect(await lockWaits.stop()).toBeGreaterThan(0); // one process did wait for the other's lock

    const results = outputs.map((output) => JSON.parse(output.stdout) as { applied: string[] });
    expect(results.flatMap((result) => result.applied).sort()).toEqual(names);
    expect(results.map((result) => result.applied.length).sort()).toEqual([0, names.length]);
    const rows = await migrationRows(url);
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    expect(rows.every((row) => row.finished_at !== null)).toBe(true);
  });
});
