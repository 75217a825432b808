import pg from "pg";

export interface DatabasePoolOptions {
  /** Pool size (pg's default is 10): DATABASE_POOL_MAX. */
  max?: number;
  /**
   * How long a query or transaction waits for a free pool connection before failing, in ms
   * (pg's default waits forever, so an exhausted pool would queue requests without bound).
   * The error says "timeout exceeded when trying to connect": the statement never ran.
   */
  connectionTimeoutMillis?: number;
  /**
   * Longest a connection may sit idle inside an open transaction, in ms (PostgreSQL's
   * `idle_in_transaction_session_timeout`, sent once at connect): the server rolls back and
   * closes a transaction whose holder stopped talking (stuck code, lost process), so a
   * lock is never held for ever. Our transactions take milliseconds.
   */
  idleInTransactionTimeoutMillis?: number;
  /** Called with the SQL text of every statement sent (metrics: statements per request). */
  onStatement?(sql: string): void;
  /**
   * Distinct statement texts of the plain-SQL path (`query(text, values)`, i.e. {@link createSqlClient})
   * that are sent as named prepared statements (default 256; 0 turns it off). A named statement
   * is parsed and planned once per connection, then only bound and executed: PostgreSQL's
   * parse and plan were the larger part of its CPU per saga (docs/performance.md). Our hot
   * path has a few dozen texts; beyond the bound new texts go unnamed, so memory stays bounded.
   * Prisma's queries are left as Prisma sends them.
   */
  preparedStatements?: number;
}

/**
 * The connection pool of one subgraph database, shared by its Prisma client
 * (`createPrismaAdapter(pool)`) and its plain-SQL hot path ({@link createSqlClient}), so
 * DATABASE_POOL_MAX bounds both together. `prisma.$disconnect()` ends it.
 */
export function createDatabasePool(databaseUrl: string, options: DatabasePoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis: options.connectionTimeoutMillis }),
    ...(options.idleInTransactionTimeoutMillis === undefined ? {} : { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMillis }),
    Client: hotPathClient(options.onStatement, options.preparedStatements ?? DEFAULT_PREPARED_STATEMENTS),
  });
  // An idle connection closed by the server (restart, idle timeout) is dropped by the pool; the next query opens another.
  pool.on("error", () => {});
  return pool;
}

/** Statements on a connection or the pool: the shape of `SqlClient` in @rentcar/platform (Prisma's raw methods). */
export interface SqlStatements {
  /** @returns the number of rows affected. */
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  /** @returns the rows, as pg parses them (timestamptz as Date, int8 as string, jsonb parsed). */
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** {@link SqlStatements} plus interactive transactions, like a Prisma client's `$transaction(fn)`. */
export interface SqlClientWithTransactions extends SqlStatements {
  /**
   * Runs `fn` in a transaction on one pool connection: BEGIN, fn's statements, COMMIT; any
   * error rolls back and is rethrown. `maxWait` (default: the client's `transactionMaxWaitMs`)
   * bounds the wait for a connection: beyond it the call fails with "Unable to start a
   * transaction in the given time" (as Prisma's P2028, which `isCapacityError` recognises) and
   * nothing ran. `timeout` is accepted for the shared interface and not enforced here: the
   * pool's idleInTransactionTimeoutMillis ends a stuck transaction on the server.
   */
  $transaction<R>(fn: (tx: SqlStatements) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * Plain SQL straight on node-postgres, for the saga's hot path (inbox, outbox, the few
 * statements per event or mutation): the same `$queryRawUnsafe` / `$executeRawUnsafe` /
 * `$transaction` calls as a Prisma client, without Prisma's per-call work (argument
 * serialisation, its query interpreter, result mapping, transaction bookkeeping), which
 * was the largest single CPU cost of the payment process under load.
 */
export function createSqlClient(pool: pg.Pool, options: { transactionMaxWaitMs?: number } = {}): SqlClientWithTransactions {
  const on = (q: pg.Pool | pg.PoolClient): SqlStatements => ({
    $executeRawUnsafe: async (sql, ...values) => (await q.query(sql, values)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await q.query(sql, values)).rows as T,
  });
  return {
    ...on(pool),
    async $transaction(fn, transactionOptions) {
      const maxWait = transactionOptions?.maxWait ?? options.transactionMaxWaitMs;
      const client = maxWait === undefined ? await pool.connect() : await connectWithin(pool, maxWait);
      // A checked-out client that loses its connection emits "error"; without a listener that would crash the process.
      let lost: Error | undefined;
      const onError = (error: Error) => { lost = error; };
      client.on("error", onError);
      let destroy = false;
      try {
        await client.query("BEGIN");
        const result = await fn(on(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        if (lost) destroy = true;
        else await client.query("ROLLBACK").catch(() => { destroy = true; });
        throw error;
      } finally {
        client.removeListener("error", onError);
        client.release(destroy || lost !== undefined);
      }
    },
  };
}

/** A pool connection within `ms`, else an error saying the transaction could not start (nothing ran). */
function connectWithin(pool: pg.Pool, ms: number): Promise<pg.PoolClient> {
  if (pool.idleCount > 0) return pool.connect(); // one is free: no timer needed
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`Unable to start a transaction in the given time: no database connection free within ${ms} ms`));
    }, ms);
    pool.connect().then((client) => {
      if (timedOut) client.release(); // the caller gave up: hand it to the next waiter
      else { clearTimeout(timer); resolve(client); }
    }, (error: unknown) => {
      clearTimeout(timer);
      if (!timedOut) reject(error);
    });
  });
}

/** Default of {@link DatabasePoolOptions.preparedStatements}. */
export const DEFAULT_PREPARED_STATEMENTS = 256;

/**
 * A pg client class that reports each statement's SQL before sending it and sends the
 * plain-SQL path's statements (`query(text, values)`) as named prepared statements, one name
 * per distinct text, up to `maxPrepared` texts per pool.
 */
function hotPathClient(onStatement: ((sql: string) => void) | undefined, maxPrepared: number): typeof pg.Client {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < maxPrepared) names.set(text, (name = `rentcar_${names.size + 1}`));
    return name;
  };
  return class HotPathClient extends pg.Client {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(...args: any[]): any {
      const first = args[0] as string | { text?: string } | undefined;
      const text = typeof first === "string" ? first : first?.text ?? "";
      onStatement?.(text);
      // (text, values) from a pool connection, or (text, values, callback) from pg.Pool#query.
      const callback = typeof args[2] === "function" ? args[2] : undefined;
      const plain = typeof first === "string" && Array.isArray(args[1]) && args.length === (callback ? 3 : 2);
      const name = plain ? nameOf(first) : undefined;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const query = super.query as (...a: any[]) => any;
      if (!name) return query.apply(this, args);
      const config = { name, text: first as string, values: args[1] };
      return callback ? query.call(this, config, callback) : query.call(this, config);
    }
  } as typeof pg.Client;
}
