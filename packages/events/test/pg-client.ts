import pg from "pg";
import type { SqlClient, TransactionalClient } from "../src/sql-client.ts";

/** A minimal SqlClient over node-postgres, so this package is tested without a generated Prisma client. */
export function pgClient(pool: pg.Pool): TransactionalClient<SqlClient> & SqlClient {
  const on = (q: pg.Pool | pg.PoolClient): SqlClient => ({
    $executeRawUnsafe: async (sql, ...values) => (await q.query(sql, values)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await q.query(sql, values)).rows as T,
  });
  return {
    ...on(pool),
    async $transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(on(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
