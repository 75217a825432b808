import { randomBytes } from "node:crypto";
import { dropDatabase, ensureDatabase, migrateDatabase, migrationsDirFor } from "@rentcar/db";

/** Admin connection of the test PostgreSQL server (the machine's PostgreSQL by default). */
export const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export type SchemaName = "reservation" | "payment" | "rental";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database (`rentcar_test_<schema>_<random>`) on the test
 * server and applies the schema's committed migrations, exactly as `npm run db:migrate` does.
 */
export async function createTestDatabase(schema: SchemaName): Promise<TestDatabase> {
  const url = new URL(ADMIN_URL);
  url.pathname = `/rentcar_test_${schema}_${randomBytes(4).toString("hex")}`;
  const databaseUrl = url.toString();
  await ensureDatabase(databaseUrl);
  await migrateDatabase({ databaseUrl, migrationsDir: migrationsDirFor(schema) });
  return { url: databaseUrl, drop: () => dropDatabase(databaseUrl) };
}
