/** SQLSTATE of an exclusion-constraint violation (here: overlapping reservation of one car). */
export const EXCLUSION_VIOLATION = "23P01";

/**
 * True when `error` (a Prisma error from the pg driver adapter) carries the given
 * PostgreSQL SQLSTATE anywhere in its cause chain. The adapter reports it as
 * `code`/`originalCode` on the driver error that Prisma nests in `cause` or `meta`.
 */
export function hasSqlState(error: unknown, sqlState: string, depth = 0): boolean {
  if (!error || typeof error !== "object" || depth > 5) return false;
  const e = error as Record<string, unknown>;
  if (e.code === sqlState || e.originalCode === sqlState) return true;
  return ["cause", "meta", "driverAdapterError"].some((key) => hasSqlState(e[key], sqlState, depth + 1));
}
