// npm run db:migrate [-- <subgraph>...]: create missing databases, apply pending migrations.
import { migrateCommand } from "../packages/db/src/cli/migrate.ts";
import { runMain } from "../packages/db/src/cli/run-main.ts";

await runMain(() => migrateCommand(process.argv.slice(2), process.env));
