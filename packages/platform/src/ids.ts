import { badUserInput } from "./errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks that an id argument is a UUID before it reaches a `uuid` column (where a
 * malformed value would be a database error, i.e. a 500).
 * @throws BAD_USER_INPUT naming `field`.
 */
export function parseUuid(value: string, field: string): string {
  if (!UUID.test(value)) throw badUserInput(`${field} must be a UUID, got ${JSON.stringify(value)}`, { field });
  return value.toLowerCase();
}

/** True when `value` is a UUID (for lookups where a malformed id simply matches nothing). */
export const isUuid = (value: string): boolean => UUID.test(value);
