import type { Redis } from "ioredis";
import type { DomainEvent } from "./contracts.ts";

/**
 * The per-customer change log of the "my reservations" view: one Redis Stream per
 * customer, appended by the reservation subgraph's outbox relay (so a committed change
 * reaches it even if the process dies right after commit), read by every router replica.
 *
 * Keys are Redis-Cluster safe: the customer id is the hash tag, so one customer's stream
 * and its version index live in one slot (the append script touches both atomically),
 * while different customers spread over the cluster. Braces are stripped from the
 * prefix, because Redis uses the first `{...}` of a key as its tag.
 */
export const changeLogKey = (prefix: string, customerId: string) => `${prefix.replace(/[{}]/g, "")}:my-changes:{${customerId}}`;
/** Hash `reservationId -> last appended version` beside the stream (same slot): makes a re-relay a no-op. */
export const changeLogVersionsKey = (prefix: string, customerId: string) => `${changeLogKey(prefix, customerId)}:versions`;
/** Pub/sub channel that only rings a bell (the customer id) after an append; the stream is the data. */
export const changeLogBellChannel = (prefix: string) => `${prefix.replace(/[{}]/g, "")}:my-changes-bell`;

/** Field of a stream entry holding the MyReservationChanged envelope (JSON). */
export const CHANGE_ENTRY_FIELD = "e";

/** Default retention of the change log: 24 h (`CHANGE_LOG_RETENTION`). */
export const DEFAULT_CHANGE_LOG_RETENTION_MS = 24 * 3_600_000;

/*
 * Appends one change unless this reservation already has this version or a newer one
 * in the log (a re-relayed row after a crash between append and mark-sent). Trims
 * entries older than the retention (MINID on the Redis clock), keeps both keys alive
 * for the retention, then rings the bell. Returns the entry id, or false for a duplicate.
 * KEYS: stream, versions. ARGV: reservationId, version, retentionMs, envelope, bell channel, customerId.
 */
const APPEND_SCRIPT = `
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= last then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minid = now - tonumber(ARGV[3])
if minid < 0 then minid = 0 end
local id = redis.call('XADD', KEYS[1], 'MINID', '~', tostring(minid), '*', '${CHANGE_ENTRY_FIELD}', ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return id
`;

type ChangeLogRedis = Redis & { appendMyChange(stream: string, versions: string, ...args: string[]): Promise<string | null> };

/**
 * Appends MyReservationChanged events to their customers' logs, in the order given.
 * The caller (the outbox relay's change lane) relays one batch at a time under an
 * advisory lock, so the versions of one reservation are appended in order; the version
 * check then makes appending the same event twice a no-op.
 * @returns how many entries were appended (duplicates are not counted).
 * @throws when Redis does not answer (the caller keeps the events and retries).
 */
export async function appendToChangeLog(redis: Redis, prefix: string, retentionMs: number, events: DomainEvent<"MyReservationChanged">[]): Promise<number> {
  const client = redis as ChangeLogRedis;
  if (typeof client.appendMyChange !== "function") client.defineCommand("appendMyChange", { numberOfKeys: 2, lua: APPEND_SCRIPT });
  let appended = 0;
  for (const event of events) {
    const id = await client.appendMyChange(
      changeLogKey(prefix, event.customerId), changeLogVersionsKey(prefix, event.customerId),
      event.reservationId, String(event.payload.version), String(retentionMs), JSON.stringify(event),
      changeLogBellChannel(prefix), event.customerId,
    );
    if (id) appended++;
  }
  return appended;
}

/** A stream entry id `<ms>-<seq>` as two numbers, for ordering. */
export function parseEntryId(id: string): [bigint, bigint] | undefined {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return match ? [BigInt(match[1]!), BigInt(match[2]!)] : undefined;
}

/** Orders two stream entry ids (-1, 0, 1). */
export function compareEntryIds(a: string, b: string): number {
  const [am, as] = parseEntryId(a) ?? [0n, 0n];
  const [bm, bs] = parseEntryId(b) ?? [0n, 0n];
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The opaque cursor a client gets with each change: the entry id, base64url-encoded. */
export const encodeCursor = (entryId: string) => Buffer.from(`c1:${entryId}`).toString("base64url");

/** The entry id inside a cursor; undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  if (cursor.length > 64) return undefined;
  const text = Buffer.from(cursor, "base64url").toString();
  const entryId = text.startsWith("c1:") ? text.slice(3) : "";
  return parseEntryId(entryId) ? entryId : undefined;
}

/** Milliseconds (Redis clock) at which an entry was appended. */
export const entryTimeMs = (entryId: string) => Number(parseEntryId(entryId)?.[0] ?? 0n);
