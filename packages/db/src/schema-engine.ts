import { readFile } from "node:fs/promises";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as bindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";
import type pg from "pg";

export type { SchemaEngine };

/** Receives the engine's log lines (JSON strings, tracing events). */
export type EngineLogger = (line: string) => void;

/** The slice of the WebAssembly global used here (lib ES2023 declares no wasm types). */
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let loaded: Promise<typeof bindings.SchemaEngine> | undefined;

/**
 * Loads the wasm schema engine once per process. The package's entry point imports
 * the `.wasm` file as an ES module, which only bundlers understand, so we instantiate
 * it ourselves with the JS glue of `schema_engine_bg` as its import object.
 */
export function loadSchemaEngine(): Promise<typeof bindings.SchemaEngine> {
  loaded ??= instantiate();
  return loaded;
}

async function instantiate(): Promise<typeof bindings.SchemaEngine> {
  const glue = import.meta.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const wasm = await readFile(new URL("schema_engine_bg.wasm", glue));
  const { instance } = await WebAssembly.instantiate(wasm, { "./schema_engine_bg.js": engineImports() });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bindings.SchemaEngine;
}

/**
 * The glue's exports, except that the engine's timers are unref'd. The engine never
 * clears a timer: the 10 s timeout it races against `pg_advisory_lock` would keep
 * every process that migrated alive for 10 s after it is done. An unref'd timer still
 * fires while anything else (a query, a server) keeps the process running.
 */
function engineImports(): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bindings };
  const setTimeoutImport = Object.keys(imports).find((name) => name.startsWith("__wbg_setTimeout_"));
  if (setTimeoutImport) imports[setTimeoutImport] = (fn: () => void, ms: number) => setTimeout(fn, ms >>> 0).unref();
  return imports;
}

/**
 * Runs `fn` with a schema engine talking to PostgreSQL through `adapterFactory`, and
 * frees the engine afterwards. The engine queries the server version when it starts,
 * so the factory must answer at least that (see `offlineAdapterFactory`).
 * The caller owns whatever pool is behind the factory and closes it.
 */
export async function withSchemaEngine<T>(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  fn: (engine: SchemaEngine) => Promise<T>,
  log: EngineLogger = () => {},
): Promise<T> {
  const SchemaEngineClass = await loadSchemaEngine();
  const engine = await SchemaEngineClass.new(
    { datamodels: undefined },
    log,
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
  try {
    return await fn(engine);
  } finally {
    engine.free();
  }
}

/**
 * `PrismaPg` over `pool` for the engine, except for `executeScript`, which is how the
 * engine runs a migration.sql. PrismaPg 7.10 splits scripts on every ";" (breaking a
 * ";" inside a string, comment or function body) and runs the pieces one by one (a
 * failure leaves the migration half-applied). Like Prisma's native engine, we send the
 * whole script as one simple query instead: PostgreSQL runs it in one implicit
 * transaction, so a failing migration leaves no trace but its failed row.
 * The pool stays the caller's to end.
 */
export function engineAdapterFor(pool: pg.Pool): SqlMigrationAwareDriverAdapterFactory {
  const factory = new PrismaPg(pool);
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => runsWholeScripts(await factory.connect(), pool),
    connectToShadowDb: () => factory.connectToShadowDb(),
  };
}

function runsWholeScripts(adapter: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
  adapter.executeScript = async (script) => {
    await pool.query(script).catch((error: unknown) => {
      throw isPgError(error) ? new DriverAdapterError(postgresErrorOf(error)) : error;
    });
  };
  return adapter;
}

function isPgError(error: unknown): error is pg.DatabaseError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string" && "severity" in error;
}

/** The error shape PrismaPg reports, so the engine prints code, message and detail. */
function postgresErrorOf(error: pg.DatabaseError) {
  const { code = "N/A", severity = "ERROR", message, detail, column, hint } = error;
  return { kind: "postgres" as const, code, severity, message, detail, column, hint };
}
