import { PrismaPg } from "@prisma/adapter-pg";

export interface PrismaAdapterOptions {
  /** Pool size (pg's default is 10). */
  max?: number;
  /** How long to wait for a connection, in ms (pg's default: forever). */
  connectionTimeoutMillis?: number;
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
  });
}
