import { ensureDatabase } from "../database-admin.ts";
import { databaseUrlFor, redactUrl } from "../database-url.ts";
import { migrateDatabase } from "../migrate.ts";
import { migrationsDirFor, parseSubgraphName, SUBGRAPHS, type SubgraphName } from "../paths.ts";

/**
 * `npm run db:migrate [-- <subgraph>...]`: for each named subgraph (default: all),
 * creates its database if missing and applies its pending migrations. Throws on the
 * first failure, naming the subgraph.
 */
export async function migrateCommand(args: string[], env: NodeJS.ProcessEnv, log = console.log): Promise<void> {
  const names: SubgraphName[] = args.length > 0 ? args.map(parseSubgraphName) : [...SUBGRAPHS];
  for (const name of names) {
    const databaseUrl = databaseUrlFor(name, env, args.length === 1);
    await migrateSubgraph(name, databaseUrl, (message) => log(`[${name}] ${message}`)).catch((error: Error) => {
      throw new Error(`migrating ${name} (${redactUrl(databaseUrl)}) failed: ${error.message}`, { cause: error });
    });
  }
}

async function migrateSubgraph(name: SubgraphName, databaseUrl: string, log: (message: string) => void): Promise<void> {
  log(`database ${redactUrl(databaseUrl)}`);
  if (await ensureDatabase(databaseUrl)) log("created database");
  await migrateDatabase({ databaseUrl, migrationsDir: migrationsDirFor(name), log });
}
