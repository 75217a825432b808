import { readFile } from "node:fs/promises";
import { listMigrationNames, readLatestSnapshot, writeMigration } from "./migrations-dir.ts";
import { diffDatamodels } from "./schema-diff.ts";

export interface NewMigrationOptions {
  /** The schema.prisma to migrate to. */
  schemaPath: string;
  migrationsDir: string;
  /** Free text; normalised to lowercase snake_case like Prisma does (`Add note` -> `add_note`). */
  name: string;
  /** Clock for the folder's UTC timestamp; defaults to now. */
  now?: Date;
}

/**
 * Writes the next migration folder `<YYYYMMDDHHMMSS>_<name>/` with the SQL from the
 * datamodel of the newest migration's snapshot (an empty database when there is no
 * migration) to the current schema, plus a snapshot of that schema for the next run.
 * Needs no database. Resolves with the folder path, or null when the schema did not
 * change (nothing is written). Throws on an invalid schema, a bad name, or a newest
 * migration without snapshot.
 */
export async function createMigration(options: NewMigrationOptions): Promise<string | null> {
  const { schemaPath, migrationsDir } = options;
  const datamodel = await readFile(schemaPath, "utf8");
  const sql = await diffDatamodels(await readLatestSnapshot(migrationsDir), datamodel);
  if (sql === null) return null;
  const folder = migrationFolderName(options.now ?? new Date(), options.name, await listMigrationNames(migrationsDir));
  return writeMigration(migrationsDir, folder, sql, datamodel);
}

/**
 * `<UTC YYYYMMDDHHMMSS>_<slug>`, bumped to one second after the newest existing
 * folder's timestamp when the clock would sort it earlier (skewed clocks, two
 * migrations in one second), since Prisma applies folders in name order.
 */
export function migrationFolderName(now: Date, name: string, existing: readonly string[]): string {
  const latest = existing.map(timestampOf).filter((t): t is Date => t !== null).sort((a, b) => +a - +b).at(-1);
  const at = latest && latest >= now ? new Date(+latest + 1000) : now;
  return `${formatTimestamp(at)}_${slugify(name)}`;
}

function slugify(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 200);
  if (!slug) throw new Error(`Invalid migration name "${name}": use letters, digits and underscores`);
  return slug;
}

function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function timestampOf(folder: string): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})_/.exec(folder);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}
