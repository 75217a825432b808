import { randomBytes } from "node:crypto";
import { dropDatabase, ensureDatabase, migrateDatabase, migrationsDirFor } from "@rentcar/db";

/** Admin connection of the test PostgreSQL server (the machine's PostgreSQL by default). */
export const ADMIN_URL = process.env.DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export type SchemaName = "reservation" | "payment" | "rental";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** URL of a not-yet-created database with a unique name: `rentcar_test_<schema>_<random>`. */
export function uniqueDatabaseUrl(schema: SchemaName): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/rentcar_test_${schema}_${randomBytes(4).toString("hex")}`;
  return url.toString();
}

/**
 * Creates a uniquely named database (`rentcar_test_<schema>_<random>`) on the test
 * server and applies the schema's committed migrations, exactly as `npm run db:migrate` does.
 */
export async function createTestDatabase(schema: SchemaName): Promise<TestDatabase> {
  const databaseUrl = uniqueDatabaseUrl(schema);
  await ensureDatabase(databaseUrl);
  await migrateDatabase({ databaseUrl, migrationsDir: migrationsDirFor(schema) });
  return { url: databaseUrl, drop: () => dropDatabase(databaseUrl) };
}

/** Env for a subgraph started in-process by a test: unique database, port 0 (any free port), quiet logs. */
export function testSubgraphEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    PORT: "0",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    QUEUE_PREFIX: TEST_QUEUE_PREFIX,
    NODE_ENV: "test",
    // Tests reserve many unpaid cars per customer; the hold limit has its own tests (which set it).
    MAX_UNPAID_HOLDS: "1000",
    ...extra,
  };
}

/** Internal-token secret used by in-process test services. */
export const TEST_INTERNAL_SECRET = "test-internal-secret-0123456789";

/** BullMQ key prefix unique to this test process, so test runs never share queues. */
export const TEST_QUEUE_PREFIX = `{rentcar-test-${randomBytes(4).toString("hex")}}`;
