import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensureDatabase, migrateDatabase, migrationsDirFor, startEmbeddedPostgres } from "@rentcar/db";
import getPort from "get-port";

export const SUBGRAPH_NAMES = ["reservation", "payment", "rental"] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** A subgraph's database for the local stack. */
export interface StackDatabase {
  name: SubgraphName;
  url: string;
  /** `embedded`: a PGlite server in this process (one connection at a time, so pool size 1). */
  source: "env" | "embedded";
  /** Migrations applied by this start. */
  applied: string[];
  stop(): Promise<void>;
}

/**
 * Provides and migrates one subgraph's database: the given URL (created if missing), or
 * an embedded PostgreSQL (PGlite) whose data lives under `<dataDir>/pglite/<name>`, so
 * a second start keeps the data of the first.
 */
export async function provideDatabase(name: SubgraphName, configuredUrl: string | undefined, dataDir: string): Promise<StackDatabase> {
  const migrate = (url: string) => migrateDatabase({ databaseUrl: url, migrationsDir: migrationsDirFor(name) });
  if (configuredUrl) {
    await ensureDatabase(configuredUrl);
    const { applied } = await migrate(configuredUrl);
    return { name, url: configuredUrl, source: "env", applied, stop: async () => {} };
  }
  const embeddedDir = join(dataDir, "pglite", name);
  mkdirSync(dirname(embeddedDir), { recursive: true });
  const embedded = await startEmbeddedPostgres({ dataDir: embeddedDir, port: await getPort() });
  const { applied } = await migrate(embedded.url);
  return { name, url: embedded.url, source: "embedded", applied, stop: embedded.stop };
}
