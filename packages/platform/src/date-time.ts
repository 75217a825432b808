import { GraphQLScalarType, Kind } from "graphql";
import { badUserInput } from "./errors.ts";

// RFC 3339 profile of ISO 8601. An explicit offset is required so that "10:00" can never mean two
// different instants. The pattern only checks the shape; the calendar is checked field by field below,
// because `new Date()` silently rolls Feb 30 over to Mar 2 and T24:00 over to the next day.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Longest part of a rejected input echoed back in an error message (hostile input stays out of logs). */
const MAX_ECHO_CHARS = 40;

function describeInput(value: unknown): string {
  const text = typeof value === "string" ? value : typeof value;
  return JSON.stringify(text.length > MAX_ECHO_CHARS ? `${text.slice(0, MAX_ECHO_CHARS)}…` : text);
}

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Days in `month` (1-12) of `year` in the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an RFC 3339 date-time with an explicit offset into a `Date` (UTC instant, ms precision;
 * sub-millisecond digits are truncated). Throws `BAD_USER_INPUT` for a wrong shape and for calendar
 * values that do not exist: month 00/13, day 00 or past the month's end (Feb 29 only in leap years),
 * hour 24, minute or second 60 (leap seconds are not representable), offsets beyond ±23:59.
 */
export function parseDateTime(value: unknown): Date {
  const match = typeof value === "string" ? ISO_8601.exec(value) : null;
  if (!match) {
    throw badUserInput(`DateTime must be an ISO-8601 string with a time zone, e.g. 2030-01-31T09:00:00Z; got ${describeInput(value)}`);
  }
  const [, y, mo, d, h, mi, s = "0", fraction = "0", sign, oh = "0", om = "0"] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [offsetHours, offsetMinutes] = [Number(oh), Number(om)];
  const exists =
    month >= 1 && month <= 12 &&
    day >= 1 && day <= daysInMonth(year, month) &&
    hour <= 23 && minute <= 59 && second <= 59 &&
    offsetHours <= 23 && offsetMinutes <= 59;
  if (!exists) throw badUserInput(`DateTime ${describeInput(value)} is not a date and time that exists`);

  const millis = Number(fraction.padEnd(3, "0").slice(0, 3));
  const offsetMs = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return new Date(date.getTime() - offsetMs);
}

function serializeDateTime(value: unknown): string {
  const date = value instanceof Date ? value : parseDateTime(value);
  if (Number.isNaN(date.getTime())) throw new TypeError("DateTime cannot serialize an invalid Date");
  return date.toISOString();
}

/**
 * `DateTime` scalar shared by every subgraph (and the router): RFC 3339 with an explicit offset on
 * input, calendar-checked (see `parseDateTime`); always UTC (`toISOString`, ms precision) on output.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An instant as an ISO-8601 string with a time zone; returned in UTC, e.g. 2030-01-31T09:00:00.000Z",
  serialize: serializeDateTime,
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badUserInput("DateTime must be a string");
    return parseDateTime(ast.value);
  },
});
