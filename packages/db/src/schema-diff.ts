import { offlineAdapterFactory } from "./offline-adapter.ts";
import { withSchemaEngine } from "./schema-engine.ts";

/**
 * SQL turning a database shaped like datamodel `from` (null: an empty database) into
 * one shaped like `to`, as `prisma migrate diff --script` prints it; null when the two
 * describe the same database. Needs no database; throws on an invalid datamodel.
 */
export async function diffDatamodels(from: string | null, to: string): Promise<string | null> {
  const result = await withSchemaEngine(offlineAdapterFactory(), (engine) =>
    engine.diff({
      from: from === null ? { tag: "empty" } : datamodel(from),
      to: datamodel(to),
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    }),
  );
  // With exitCode requested the engine answers 2 when there are changes, 0 when none.
  return result.exitCode === 2 ? (result.stdout ?? "") : null;
}

function datamodel(content: string) {
  return { tag: "schemaDatamodel" as const, files: [{ path: "schema.prisma", content }] };
}
