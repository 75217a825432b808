import pg from "pg";
import { readMigrationsList } from "./migrations-dir.ts";
import { engineAdapterFor, withSchemaEngine } from "./schema-engine.ts";

/**
 * Key of the session-level advisory lock serialising `migrateDatabase` callers on one
 * database ("rent" in ASCII). Not Prisma's key 72707369: the engine takes that one
 * itself on the same session (so we also exclude a concurrent `prisma migrate deploy`)
 * and never releases it; ours must be ours to unlock.
 */
export const MIGRATION_LOCK_KEY = 0x72656e74;

export interface MigrateOptions {
  /** Database to migrate; it must exist (see `ensureDatabase`). */
  databaseUrl: string;
  /** A Prisma migrations folder: `<timestamp>_<name>/migration.sql` + `migration_lock.toml`. */
  migrationsDir: string;
  /** Receives one human-readable line per applied migration, or "no pending migrations". */
  log?: (message: string) => void;
}

/**
 * Applies the pending migrations of `migrationsDir` with the wasm schema engine and
 * records them in `_prisma_migrations` exactly like `prisma migrate deploy` (so both
 * tools can take turns on one database). Resolves with the names applied this call,
 * in order ([] when up to date).
 *
 * Everything runs over ONE connection that holds `pg_advisory_lock(MIGRATION_LOCK_KEY)`
 * for the whole run, so concurrent callers (two pods, two test workers) queue up and
 * the later ones find nothing left to apply. Rejects with the engine's error when a
 * migration fails; Prisma then marks it failed in `_prisma_migrations` and refuses to
 * continue until it is resolved (`prisma migrate resolve`).
 */
export async function migrateDatabase(options: MigrateOptions): Promise<{ applied: string[] }> {
  const { databaseUrl, migrationsDir, log = () => {} } = options;
  const migrationsList = await readMigrationsList(migrationsDir);
  const applied = await withLockedConnection(databaseUrl, (pool) =>
    withSchemaEngine(engineAdapterFor(pool), (engine) =>
      engine.applyMigrations({ migrationsList, filters: { externalTables: [], externalEnums: [] } }),
    ),
  );
  const names = applied.appliedMigrationNames;
  for (const name of names) log(`applied ${name}`);
  if (names.length === 0) log("no pending migrations");
  return { applied: names };
}

/**
 * Runs `fn` with a pool of exactly one connection on which the migration advisory
 * lock is held. The lock is session-level, so it stays held while the connection
 * goes back to the pool for the engine to use, until the unlock (or the pool's end,
 * which closes the session and releases it whatever happened).
 */
async function withLockedConnection<T>(databaseUrl: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, idleTimeoutMillis: 0 });
  pool.on("error", () => {}); // an idle connection dying would crash the process; the next query reports it
  try {
    await pool.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      return await fn(pool);
    } finally {
      await pool.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await pool.end();
  }
}
