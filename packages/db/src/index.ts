export { ensureDatabase, dropDatabase, databaseNameOf } from "./database-admin.ts";
export { databaseUrlFor } from "./database-url.ts";
export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from "./embedded-postgres.ts";
export { generateClient, offlinePrismaEnv } from "./generate-client.ts";
export { migrateDatabase, MIGRATION_LOCK_KEY, type MigrateOptions } from "./migrate.ts";
export { readMigrationsList, listMigrationNames, MIGRATION_FILE, SNAPSHOT_FILE } from "./migrations-dir.ts";
export { createMigration, migrationFolderName, type NewMigrationOptions } from "./new-migration.ts";
export {
  SUBGRAPHS,
  type SubgraphName,
  repoRoot,
  prismaDirFor,
  schemaPathFor,
  migrationsDirFor,
  parseSubgraphName,
} from "./paths.ts";
export { createPrismaAdapter, type PrismaAdapterOptions } from "./prisma-adapter.ts";
export { createDatabasePool, createSqlClient, type DatabasePoolOptions, type SqlClientWithTransactions, type SqlStatements } from "./sql-pool.ts";
export { diffDatamodels } from "./schema-diff.ts";
export { loadSchemaEngine, withSchemaEngine, engineAdapterFor, type SchemaEngine } from "./schema-engine.ts";
