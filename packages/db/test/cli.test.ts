import { afterAll, describe, expect, it } from "vitest";
import { migrateCommand } from "../src/cli/migrate.ts";
import { migrateNewCommand } from "../src/cli/migrate-new.ts";
import { databaseUrlFor, listMigrationNames, migrationsDirFor } from "../src/index.ts";
import { redactUrl } from "../src/database-url.ts";
import { query, scratchSpace } from "./helpers.ts";

const scratch = scratchSpace();
afterAll(() => scratch.cleanup());

describe("databaseUrlFor", () => {
  const env = { DATABASE_URL: "postgresql://job/db", PAYMENT_DATABASE_URL: "postgresql://own/payment" };

  it("prefers <NAME>_DATABASE_URL, then DATABASE_URL for a single subgraph, then the local default", () => {
    expect(databaseUrlFor("payment", env, false)).toBe("postgresql://own/payment");
    expect(databaseUrlFor("rental", env, true)).toBe("postgresql://job/db");
    expect(databaseUrlFor("rental", env, false)).toBe("postgresql://postgres@127.0.0.1:5432/rentcar_rental");
  });

  it("redacts passwords for logs", () => {
    expect(redactUrl("postgresql://app:s3cret@db:5432/x")).toBe("postgresql://app:***@db:5432/x");
  });
});

describe("migrateCommand", () => {
  it("migrates the one named subgraph into DATABASE_URL, creating the database (the Kubernetes Job's call)", async () => {
    const url = scratch.database();
    const lines: string[] = [];

    await migrateCommand(["rental"], { DATABASE_URL: url }, (line) => lines.push(line));

    const names = await listMigrationNames(migrationsDirFor("rental"));
    expect(lines).toContain("[rental] created database");
    expect(lines).toContain(`[rental] applied ${names[0]}`);
    expect(await query(url, "SELECT migration_name FROM _prisma_migrations")).toHaveLength(names.length);
  });

  it("uses <NAME>_DATABASE_URL per subgraph when several are named", async () => {
    const env = { RESERVATION_DATABASE_URL: scratch.database(), PAYMENT_DATABASE_URL: scratch.database() };
    await migrateCommand(["reservation", "payment"], env, () => {});
    expect(await query(env.RESERVATION_DATABASE_URL, "SELECT 1 FROM reservation")).toEqual([]);
    expect(await query(env.PAYMENT_DATABASE_URL, "SELECT 1 FROM payment")).toEqual([]);
  });

  it("fails naming the subgraph and the redacted URL", async () => {
    const env = { DATABASE_URL: "postgresql://app:s3cret@127.0.0.1:1/rentcar_x" };
    await expect(migrateCommand(["payment"], env, () => {})).rejects.toThrow(
      "migrating payment (postgresql://app:***@127.0.0.1:1/rentcar_x) failed",
    );
    await expect(migrateCommand(["billing"], {}, () => {})).rejects.toThrow(/Unknown subgraph "billing"/);
  });
});

describe("migrateNewCommand", () => {
  it("requires a subgraph and a name", async () => {
    await expect(migrateNewCommand(["payment"])).rejects.toThrow(/usage/);
  });

  it("writes nothing when the schema matches the last migration", async () => {
    const lines: string[] = [];
    await migrateNewCommand(["payment", "nothing"], (line) => lines.push(line));
    expect(lines).toEqual(["No changes in prisma/payment/schema.prisma since the last migration; nothing written."]);
  });
});
