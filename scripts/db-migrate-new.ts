// npm run db:migrate:new -- <subgraph> <migration_name>: write the next migration from schema.prisma changes.
import { migrateNewCommand } from "../packages/db/src/cli/migrate-new.ts";
import { runMain } from "../packages/db/src/cli/run-main.ts";

await runMain(() => migrateNewCommand(process.argv.slice(2)));
