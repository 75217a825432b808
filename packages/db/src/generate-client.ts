import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Environment for running the Prisma CLI offline. `prisma generate` insists on
 * downloading the schema-engine binary unless PRISMA_SCHEMA_ENGINE_BINARY names an
 * existing file, yet never runs it, so any file does (we use node itself).
 */
export function offlinePrismaEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    PRISMA_SCHEMA_ENGINE_BINARY: env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  };
}

/**
 * Runs `prisma generate --schema <schemaPath>` (the client goes where the schema's
 * generator `output` says). No prisma.config.ts and no DATABASE_URL are needed:
 * generate reads only the schema. Throws when the CLI fails (its output is inherited).
 */
export function generateClient(schemaPath: string): void {
  const cli = fileURLToPath(import.meta.resolve("prisma/build/index.js"));
  const result = spawnSync(process.execPath, [cli, "generate", "--schema", schemaPath], {
    env: offlinePrismaEnv(process.env),
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`prisma generate --schema ${schemaPath} failed (exit ${result.status ?? result.signal})`);
}
