/**
 * Redaction of internal detail from text that a client may see (error messages and
 * error extensions). The router applies it to every client-visible error whatever its
 * origin, so a message written carelessly anywhere (a driver error, a fetch failure, a
 * validation message echoing input) cannot leak infrastructure or a card number.
 */

const REDACTED = "[redacted]";

/** Each rule: what it finds and what replaces it. Order matters: URLs before hosts, hosts before paths. */
const RULES: readonly [RegExp, string | ((match: string) => string)][] = [
  // Stack frames ("    at fn (file:line:col)").
  [/\n\s+at [^\n]*/g, ""],
  // Any URL (http://10.0.0.3:4002/graphql, postgresql://user@db/x, redis://...).
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]*/gi, REDACTED],
  // host:port and bare IPv4 addresses (connect ECONNREFUSED 127.0.0.1:4003, localhost:5432).
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, REDACTED],
  [/\blocalhost(?::\d{1,5})?\b/gi, REDACTED],
  // File paths with at least two segments (/work/app/src/x.ts, C:\app\x.js), source file names.
  [/(?:[A-Za-z]:)?(?:[\\/][\w.@-]+){2,}(?::\d+(?::\d+)?)?/g, REDACTED],
  [/\b[\w.-]+\.(?:ts|js|mjs|cjs|mts|cts|prisma|sql)(?::\d+(?::\d+)?)?\b/g, REDACTED],
  // SQL states (23P01, 22P02; not the T of an ISO time), the words that announce them, and Prisma error codes (P2002).
  [/\bSQLSTATE\b[^\n]*/gi, REDACTED],
  [/(?<![-:\w])\d\d[A-SU-Z]\d\d(?![\w:])|\bP\d{4}\b/g, REDACTED],
  // A card number: 13 or more digits in a row, or groups of 4-6 split by spaces or dashes; only the last 4 stay.
  [/\d{13,}|\b\d{4}(?:[ -]\d{4,6}){2,3}\b/g, (match) => `****${match.replace(/\D/g, "").slice(-4)}`],
];

/** `text` with URLs, hosts, ports, file paths, SQLSTATEs and card numbers replaced. */
export function redactInternals(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement as never);
  return out;
}
