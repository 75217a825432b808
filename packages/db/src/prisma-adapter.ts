import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

export interface PrismaAdapterOptions {
  /** Pool size (pg's default is 10). */
  max?: number;
  /**
   * How long a query waits for a free pool connection before failing, in ms (pg's default
   * waits forever, so an exhausted pool would queue requests without bound).
   */
  connectionTimeoutMillis?: number;
  /** Called with the SQL text of every statement sent (metrics: statements per request). */
  onStatement?(sql: string): void;
}

/**
 * The driver adapter every subgraph gives its generated client:
 * `new PrismaClient({ adapter: createPrismaAdapter(url) })`. The pool is created
 * lazily on the first query and ended by `prisma.$disconnect()`.
 */
export function createPrismaAdapter(databaseUrl: string, options: PrismaAdapterOptions = {}): PrismaPg {
  return new PrismaPg({
    connectionString: databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis: options.connectionTimeoutMillis }),
    ...(options.onStatement ? { Client: countingClient(options.onStatement) } : {}),
  });
}

/** A pg client class that reports each statement's SQL before sending it. */
function countingClient(onStatement: (sql: string) => void): typeof pg.Client {
  return class CountingClient extends pg.Client {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(...args: any[]): any {
      const first = args[0] as string | { text?: string } | undefined;
      onStatement(typeof first === "string" ? first : first?.text ?? "");
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (super.query as (...a: any[]) => any)(...args);
    }
  } as typeof pg.Client;
}
