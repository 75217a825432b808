import pg from "pg";

/** The database every PostgreSQL server has, used to create and drop the others. */
const MAINTENANCE_DATABASE = "postgres";
const DUPLICATE_DATABASE = "42P04";
/** Two concurrent CREATE DATABASE of one name can also lose on pg_database's unique index. */
const UNIQUE_VIOLATION = "23505";

/** The database name in a connection URL (`postgres` when the URL has none). */
export function databaseNameOf(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || MAINTENANCE_DATABASE;
}

/**
 * Creates the database named in `databaseUrl` unless it exists, connecting to the
 * `postgres` maintenance database of the same server with the same credentials.
 * Resolves true when this call created it. Safe to race: losing a concurrent CREATE
 * counts as "exists". A no-op for the `postgres` database itself.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseNameOf(databaseUrl);
  if (name === MAINTENANCE_DATABASE) return false;
  return withMaintenanceClient(databaseUrl, async (client) => {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (error) {
      if (isPgError(error, DUPLICATE_DATABASE, UNIQUE_VIOLATION)) return false;
      throw error;
    }
  });
}

/**
 * Drops the database named in `databaseUrl` if it exists, disconnecting its sessions
 * (`WITH (FORCE)`, PostgreSQL 13+). For tests; refuses to drop `postgres`.
 */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = databaseNameOf(databaseUrl);
  if (name === MAINTENANCE_DATABASE) throw new Error(`Refusing to drop the "${MAINTENANCE_DATABASE}" database`);
  await withMaintenanceClient(databaseUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
  );
}

async function withMaintenanceClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl);
  url.pathname = `/${MAINTENANCE_DATABASE}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function isPgError(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as { code?: string }).code ?? "");
}
