import { readFile } from "node:fs/promises";
import path from "node:path";
import { MIGRATION_FILE } from "../migrations-dir.ts";
import { createMigration } from "../new-migration.ts";
import { migrationsDirFor, parseSubgraphName, repoRoot, schemaPathFor } from "../paths.ts";

/**
 * `npm run db:migrate:new -- <subgraph> <migration_name>`: writes the next migration
 * of `prisma/<subgraph>/migrations` from the changes to its schema.prisma (offline).
 */
export async function migrateNewCommand(args: string[], log = console.log): Promise<void> {
  const [subgraph, name, ...rest] = args;
  if (!subgraph || !name || rest.length > 0) throw new Error("usage: npm run db:migrate:new -- <subgraph> <migration_name>");
  const schemaPath = schemaPathFor(parseSubgraphName(subgraph));
  const created = await createMigration({ schemaPath, migrationsDir: migrationsDirFor(subgraph), name });
  if (created === null) {
    log(`No changes in ${path.relative(repoRoot, schemaPath)} since the last migration; nothing written.`);
    return;
  }
  const file = path.join(created, MIGRATION_FILE);
  log(`Created ${path.relative(repoRoot, file)}:\n\n${await readFile(file, "utf8")}`);
  log("Review it (hand-written SQL goes after the generated statements), then apply it with `npm run db:migrate`.");
}
