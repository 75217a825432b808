import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { createDatabasePool, type DatabasePoolOptions } from "./sql-pool.ts";

/** Pool settings when the adapter creates its own pool (see {@link DatabasePoolOptions}). */
export type PrismaAdapterOptions = DatabasePoolOptions;

/**
 * The driver adapter every subgraph gives its generated client:
 * `new PrismaClient({ adapter: createPrismaAdapter(url) })`, or, to share one pool with the
 * plain-SQL path (`createSqlClient`), `createPrismaAdapter(createDatabasePool(url, options))`.
 * Either way `prisma.$disconnect()` ends the pool.
 */
export function createPrismaAdapter(databaseUrlOrPool: string | pg.Pool, options: PrismaAdapterOptions = {}): PrismaPg {
  const pool = typeof databaseUrlOrPool === "string" ? createDatabasePool(databaseUrlOrPool, options) : databaseUrlOrPool;
  return new PrismaPg(pool, { disposeExternalPool: true });
}
