import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabasePool, createSqlClient, ensureDatabase } from "../src/index.ts";
import { scratchSpace } from "./helpers.ts";

const scratch = scratchSpace();
let url: string;
beforeAll(async () => {
  url = scratch.database();
  await ensureDatabase(url);
  const pool = createDatabasePool(url);
  await pool.query("CREATE TABLE item (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
  await pool.end();
});
afterAll(() => scratch.cleanup());

describe("createSqlClient (plain SQL on the shared pool)", () => {
  it("sends the plain-SQL path's statements as named prepared statements, up to the bound, and leaves others unnamed", async () => {
    const pool = createDatabasePool(url, { max: 1, preparedStatements: 2 });
    const sql = createSqlClient(pool);
    const prepared = (tx: { $queryRawUnsafe<T>(q: string, ...v: unknown[]): Promise<T> }) =>
      tx.$queryRawUnsafe<{ statement: string }[]>("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time");
    try {
      const texts = await sql.$transaction(async (tx) => {
        expect(await tx.$queryRawUnsafe("SELECT $1::int AS x", 7)).toEqual([{ x: 7 }]);
        expect(await tx.$queryRawUnsafe("SELECT $1::int AS x", 8)).toEqual([{ x: 8 }]); // the same statement, executed again
        await prepared(tx); // second distinct text: the bound (2) is reached here
        await tx.$queryRawUnsafe("SELECT $1::int + 1 AS y", 1); // third text: unnamed
        return (await prepared(tx)).map((r) => r.statement);
      });
      expect(texts).toEqual(["SELECT $1::int AS x", "SELECT statement FROM pg_prepared_statements ORDER BY prepare_time"]);
      // pg.Pool#query (outside a transaction) goes through the same path.
      expect(await sql.$queryRawUnsafe("SELECT $1::int AS x", 9)).toEqual([{ x: 9 }]);
    } finally {
      await pool.end();
    }
    const off = createDatabasePool(url, { max: 1, preparedStatements: 0 });
    try {
      const rows = await createSqlClient(off).$transaction(async (tx) => { await tx.$queryRawUnsafe("SELECT $1::int AS x", 1); return prepared(tx); });
      expect(rows).toEqual([]);
    } finally {
      await off.end();
    }
  });

  it("commits a transaction's statements together, rolls all back on an error, and counts every statement", async () => {
    const seen: string[] = [];
    const pool = createDatabasePool(url, { max: 2, onStatement: (sql) => seen.push(sql.split(" ")[0]!) });
    const sql = createSqlClient(pool);
    try {
      expect(await sql.$transaction(async (tx) => (await tx.$executeRawUnsafe("INSERT INTO item (id) VALUES ($1), ($2)", 1, 2)))).toBe(2);
      await expect(sql.$transaction(async (tx) => {
        await tx.$executeRawUnsafe("INSERT INTO item (id) VALUES (3)");
        await tx.$executeRawUnsafe("INSERT INTO item (id) VALUES (1)"); // duplicate key
      })).rejects.toMatchObject({ code: "23505" });
      const rows = await sql.$queryRawUnsafe<{ id: number; at: Date }[]>("SELECT id, at FROM item ORDER BY id");
      expect(rows.map((r) => r.id)).toEqual([1, 2]);
      expect(rows[0]!.at).toBeInstanceOf(Date);
      expect(seen).toEqual(["BEGIN", "INSERT", "COMMIT", "BEGIN", "INSERT", "INSERT", "ROLLBACK", "SELECT"]);
    } finally {
      await pool.end();
    }
  });

  it("refuses a transaction that cannot get a connection within maxWait with Prisma's P2028 wording (nothing ran), then works again", async () => {
    const pool = createDatabasePool(url, { max: 1 });
    const sql = createSqlClient(pool, { transactionMaxWaitMs: 50 });
    try {
      let release!: () => void;
      const holding = sql.$transaction(() => new Promise<void>((resolve) => { release = resolve; }));
      await new Promise((r) => setTimeout(r, 20));
      await expect(sql.$transaction((tx) => tx.$executeRawUnsafe("INSERT INTO item (id) VALUES (10)")))
        .rejects.toThrow(/Unable to start a transaction in the given time/);
      release();
      await holding;
      expect(await sql.$transaction((tx) => tx.$executeRawUnsafe("INSERT INTO item (id) VALUES (11)"))).toBe(1);
      expect(await sql.$queryRawUnsafe<{ id: number }[]>("SELECT id FROM item WHERE id >= 10")).toEqual([{ id: 11 }]);
    } finally {
      await pool.end();
    }
  });

  it("survives the server ending a transaction left idle (idleInTransactionTimeoutMillis): the error surfaces, the process and the pool go on", async () => {
    const pool = createDatabasePool(url, { max: 1, idleInTransactionTimeoutMillis: 100 });
    const sql = createSqlClient(pool);
    try {
      await expect(sql.$transaction(async (tx) => {
        await tx.$executeRawUnsafe("INSERT INTO item (id) VALUES (20)");
        await new Promise((r) => setTimeout(r, 400));
        await tx.$executeRawUnsafe("INSERT INTO item (id) VALUES (21)");
      })).rejects.toThrow();
      expect(await sql.$queryRawUnsafe<{ n: string }[]>("SELECT count(*) AS n FROM item WHERE id >= 20")).toEqual([{ n: "0" }]);
    } finally {
      await pool.end();
    }
  });
});
