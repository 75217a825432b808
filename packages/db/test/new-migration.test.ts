import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createMigration,
  diffDatamodels,
  ensureDatabase,
  listMigrationNames,
  migrateDatabase,
  migrationFolderName,
  migrationsDirFor,
  schemaPathFor,
  SNAPSHOT_FILE,
  SUBGRAPHS,
} from "../src/index.ts";
import { query, scratchSpace } from "./helpers.ts";

const scratch = scratchSpace();
afterAll(() => scratch.cleanup());

/** A scratch prisma folder holding a copy of the payment schema and no migrations. */
async function scratchPrismaDir() {
  const dir = await scratch.dir("prisma");
  const schemaPath = path.join(dir, "schema.prisma");
  await copyFile(schemaPathFor("payment"), schemaPath);
  return { schemaPath, migrationsDir: path.join(dir, "migrations") };
}

describe("createMigration", () => {
  it("writes init, then nothing without changes, then only the change; the chain migrates a database", async () => {
    const { schemaPath, migrationsDir } = await scratchPrismaDir();
    const at = (iso: string) => new Date(iso);

    const init = await createMigration({ schemaPath, migrationsDir, name: "init", now: at("2030-01-02T03:04:05Z") });
    expect(path.basename(init!)).toBe("20300102030405_init");
    expect(await readFile(path.join(init!, "migration.sql"), "utf8")).toContain('CREATE TABLE "payment"');
    expect(await readFile(path.join(init!, SNAPSHOT_FILE), "utf8")).toBe(await readFile(schemaPath, "utf8"));
    expect(await readFile(path.join(migrationsDir, "migration_lock.toml"), "utf8")).toContain('provider = "postgresql"');

    expect(await createMigration({ schemaPath, migrationsDir, name: "noop" })).toBeNull();

    const schema = await readFile(schemaPath, "utf8");
    await writeFile(schemaPath, schema.replace("  amount        Int", "  amount        Int\n  note          String?"));
    const added = await createMigration({ schemaPath, migrationsDir, name: "Add payment note", now: at("2030-01-03T00:00:00Z") });
    expect(path.basename(added!)).toBe("20300103000000_add_payment_note");
    const sql = await readFile(path.join(added!, "migration.sql"), "utf8");
    expect(sql).toMatch(/ALTER TABLE "payment" ADD COLUMN\s+"note" TEXT;/);
    expect(sql).not.toContain("CREATE TABLE");

    const url = scratch.database();
    await ensureDatabase(url);
    const { applied } = await migrateDatabase({ databaseUrl: url, migrationsDir });
    expect(applied).toEqual(["20300102030405_init", "20300103000000_add_payment_note"]);
    const columns = await query(url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'payment' AND column_name = 'note'");
    expect(columns).toHaveLength(1);
  });

  it("refuses to diff from a newest migration without a snapshot", async () => {
    const { schemaPath, migrationsDir } = await scratchPrismaDir();
    await mkdir(path.join(migrationsDir, "20300101000000_by_prisma_cli"), { recursive: true });
    await writeFile(path.join(migrationsDir, "20300101000000_by_prisma_cli", "migration.sql"), "SELECT 1;");
    await expect(createMigration({ schemaPath, migrationsDir, name: "next" })).rejects.toThrow(SNAPSHOT_FILE);
  });

  it("rejects a name with no letters or digits", async () => {
    expect(() => migrationFolderName(new Date(), "--", [])).toThrow(/Invalid migration name/);
  });
});

describe("migrationFolderName", () => {
  it("uses the UTC timestamp and snake_case", () => {
    expect(migrationFolderName(new Date("2030-12-31T23:59:58Z"), "Add-Index on  car", [])).toBe("20301231235958_add_index_on_car");
  });

  it("sorts after the newest existing folder even if the clock is behind", () => {
    const existing = ["20300101000000_init", "20300101000005_second"];
    expect(migrationFolderName(new Date("2030-01-01T00:00:05Z"), "third", existing)).toBe("20300101000006_third");
  });
});

describe.each(SUBGRAPHS)("committed migrations of %s", (name) => {
  it("are up to date with schema.prisma (run `npm run db:migrate:new` after changing it)", async () => {
    const [latest] = (await listMigrationNames(migrationsDirFor(name))).slice(-1);
    const snapshot = await readFile(path.join(migrationsDirFor(name), latest!, SNAPSHOT_FILE), "utf8");
    expect(await diffDatamodels(snapshot, await readFile(schemaPathFor(name), "utf8"))).toBeNull();
  });
});
