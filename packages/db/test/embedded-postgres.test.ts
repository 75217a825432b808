import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ensureDatabase, migrateDatabase, migrationsDirFor, startEmbeddedPostgres, type EmbeddedPostgres } from "../src/index.ts";
import { insertReservation, query, scratchSpace } from "./helpers.ts";

const scratch = scratchSpace();
const servers: EmbeddedPostgres[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await scratch.cleanup();
});

async function start(dataDir: string): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, port: 0 });
  servers.push(server);
  return server;
}

describe("startEmbeddedPostgres", () => {
  it("migrates, enforces the exclusion constraint, and keeps data across a restart on the same dataDir", async () => {
    const dataDir = path.join(await scratch.dir("pglite"), "data");
    const migrationsDir = migrationsDirFor("reservation");

    const first = await start(dataDir);
    expect(first.url).toMatch(/^postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=disable$/);
    expect(await ensureDatabase(first.url)).toBe(false);
    const { applied } = await migrateDatabase({ databaseUrl: first.url, migrationsDir });
    expect(applied.length).toBeGreaterThan(0);
    const [kept] = await insertReservation(first.url, "car-1", "2030-01-01T10:00Z", "2030-01-05T10:00Z");
    await expect(insertReservation(first.url, "car-1", "2030-01-02T10:00Z", "2030-01-03T10:00Z")).rejects.toMatchObject({
      code: "23P01",
    });
    await first.stop();

    const second = await start(dataDir);
    expect(await query(second.url, "SELECT id FROM reservation")).toEqual([{ id: kept!.id }]);
    expect((await query(second.url, "SELECT migration_name FROM _prisma_migrations")).map((row) => row.migration_name)).toEqual(
      applied,
    );
    expect((await migrateDatabase({ databaseUrl: second.url, migrationsDir })).applied).toEqual([]);
    await second.stop();
  });

  it("queues a second client until the first disconnects", async () => {
    const server = await start(path.join(await scratch.dir("pglite"), "data"));
    const first = new pg.Client(server.url);
    await first.connect();
    await first.query("CREATE TABLE handoff (n int)");

    const second = new pg.Client(server.url);
    const secondResult = second.connect().then(() => second.query<{ n: number }>("SELECT n FROM handoff"));
    let secondDone = false;
    void secondResult.then(() => (secondDone = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);

    await first.query("INSERT INTO handoff VALUES (1)");
    await first.end();
    expect((await secondResult).rows).toEqual([{ n: 1 }]);
    await second.end();
    await server.stop();
  });
});
