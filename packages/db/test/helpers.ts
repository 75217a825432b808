import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import pg from "pg";
import { dropDatabase } from "../src/index.ts";

export const adminUrl = process.env.DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** URL of a not-yet-existing database `rentcar_test_<random>` on the admin server; the caller drops it. */
export function uniqueDatabaseUrl(): string {
  const url = new URL(adminUrl);
  url.pathname = `/rentcar_test_${randomBytes(6).toString("hex")}`;
  return url.toString();
}

/**
 * Hands out unique test databases and temp directories and removes them all in
 * `cleanup()` (call it from afterAll).
 */
export function scratchSpace() {
  const urls: string[] = [];
  const dirs: string[] = [];
  return {
    database: () => {
      const url = uniqueDatabaseUrl();
      urls.push(url);
      return url;
    },
    dir: async (prefix: string) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), `rentcar-${prefix}-`));
      dirs.push(dir);
      return dir;
    },
    cleanup: async () => {
      await Promise.all(urls.map((url) => dropDatabase(url)));
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

/** Runs one statement on a short-lived connection. */
export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A copy of `migrationsDir` inside `parent` with extra migrations `{ folder: sql }` added. */
export async function migrationsCopy(
  parent: string,
  migrationsDir: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const dir = path.join(parent, "migrations");
  await cp(migrationsDir, dir, { recursive: true });
  for (const [folder, sql] of Object.entries(extra)) {
    await mkdir(path.join(dir, folder));
    await writeFile(path.join(dir, folder, "migration.sql"), sql);
  }
  return dir;
}

/** Inserts a reservation row with plain SQL (the Prisma client of the subgraph is not needed here). */
export function insertReservation(
  url: string,
  carId: string,
  pickupAt: string,
  returnAt: string,
  status = "RESERVED",
): Promise<Array<{ id: string }>> {
  return query(
    url,
    `INSERT INTO reservation (id, customer_id, car_id, pickup_at, return_at, amount, status, updated_at)
     VALUES (gen_random_uuid(), 'customer-1', $1, $2, $3, 100000, $4, now()) RETURNING id`,
    [carId, pickupAt, returnAt, status],
  );
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
