import {
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlResultSet,
} from "@prisma/driver-adapter-utils";

/** The PostgreSQL version the offline adapter claims: production's major version. */
const SERVER_VERSION = { text: "PostgreSQL 15.0 (offline diff)", num: 150000 };

/**
 * A driver adapter with no database behind it, for the engine's `diff` between two
 * datamodels (pure computation). The engine still probes the server version when it
 * starts; this answers that probe as PostgreSQL 15 and rejects every other query with
 * an error saying a database is needed, so misuse fails loudly instead of silently.
 */
export function offlineAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: "postgres",
    adapterName: "rentcar-offline",
    connect: async () => offlineAdapter(),
    connectToShadowDb: async () => offlineAdapter(),
  };
}

function offlineAdapter(): SqlDriverAdapter {
  const refuse = async (): Promise<never> => {
    throw new Error("The offline schema engine has no database; this operation needs a real connection");
  };
  return {
    provider: "postgres",
    adapterName: "rentcar-offline",
    queryRaw: async ({ sql }) => (isVersionProbe(sql) ? versionProbeResult() : refuse()),
    executeRaw: refuse,
    executeScript: refuse,
    startTransaction: refuse,
    getConnectionInfo: () => ({ supportsRelationJoins: true }),
    dispose: async () => {},
  };
}

function isVersionProbe(sql: string): boolean {
  return /\bversion\(\)/.test(sql) && sql.includes("server_version_num");
}

function versionProbeResult(): SqlResultSet {
  return {
    columnNames: ["exists", "version", "numeric_version"],
    columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
    rows: [[true, SERVER_VERSION.text, SERVER_VERSION.num]],
  };
}
