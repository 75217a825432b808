import {
  CHANGE_ENTRY_FIELD, changeLogBellChannel, changeLogKey, compareEntryIds, parseEvent, type DomainEvent,
} from "@rentcar/events";
import { connectRedis, type Logger, type RedisClient } from "@rentcar/platform";

/** One change of a customer's view, at its position in the customer's change log. */
export interface ChangeEntry {
  /** Stream entry id (`<ms>-<seq>`): the position; the client sees it as an opaque cursor. */
  id: string;
  event: DomainEvent<"MyReservationChanged">;
  /**
   * Resolutions of this change by selection, shared by every local subscriber of the
   * customer with the same selection (see live-resolution.ts). Lives as long as the entry.
   */
  shared: Map<string, Promise<unknown>>;
}

export type ChangeListener = (entry: ChangeEntry) => void;

/** Entries read per XRANGE call. */
const PAGE = 200;
/** Recent entries kept per followed customer, so subscribers replaying the same range share them. */
const RECENT = 128;
/** A full catch-up of every followed customer runs this often, besides after every reconnect (ms). */
const SWEEP_INTERVAL_MS = 15_000;

interface Feed {
  listeners: Set<ChangeListener>;
  /** Last entry id dispatched to the listeners; undefined until the tail is known. */
  lastId: string | undefined;
  ready: Promise<string>;
  reading: boolean;
  again: boolean;
  recent: Map<string, ChangeEntry>;
}

/**
 * The change logs as one router replica follows them. For every customer with local
 * subscribers it reads the customer's stream from its last position and dispatches each
 * new entry, in log order, to those subscribers. The pub/sub "bell" only says which
 * customer to read now; the stream is the data, so a missed bell loses nothing: after
 * every (re)connection to Redis, and every SWEEP_INTERVAL_MS, every followed customer is
 * read again from its position.
 */
export function createChangeHub(redisUrl: string, prefix: string, log: Logger) {
  const hubLog = log.child({ component: "change-hub" });
  const feeds = new Map<string, Feed>();
  const reader: RedisClient = connectRedis(redisUrl, hubLog);
  const bell: RedisClient = connectRedis(redisUrl, hubLog);
  let closed = false;

  const toEntry = (feed: Feed | undefined, id: string, fields: Record<string, string>): ChangeEntry | undefined => {
    const cached = feed?.recent.get(id);
    if (cached) return cached;
    let parsed: ReturnType<typeof parseEvent>;
    try {
      parsed = parseEvent(JSON.parse(fields[CHANGE_ENTRY_FIELD] ?? ""));
    } catch (error) {
      parsed = { ok: false, reason: (error as Error).message };
    }
    if (!parsed.ok || parsed.event.type !== "MyReservationChanged") {
      hubLog.warn({ entryId: id, reason: parsed.ok ? parsed.event.type : parsed.reason }, "skipped a malformed change log entry");
      return undefined;
    }
    const entry: ChangeEntry = { id, event: parsed.event as DomainEvent<"MyReservationChanged">, shared: new Map() };
    if (feed) {
      feed.recent.set(id, entry);
      if (feed.recent.size > RECENT) feed.recent.delete(feed.recent.keys().next().value!);
    }
    return entry;
  };

  /** Reads `(afterId, untilId]` of a customer's log, at most `count` entries, in order. */
  async function readRange(customerId: string, afterId: string, untilId = "+", count = PAGE): Promise<{ entries: ChangeEntry[]; lastId: string | undefined; more: boolean }> {
    const raw = await reader.xRange(changeLogKey(prefix, customerId), `(${afterId}`, untilId, { COUNT: count });
    const feed = feeds.get(customerId);
    const entries: ChangeEntry[] = [];
    for (const message of raw ?? []) {
      const entry = toEntry(feed, String(message.id), message.message as Record<string, string>);
      if (entry) entries.push(entry);
    }
    return { entries, lastId: raw?.length ? String(raw.at(-1)!.id) : undefined, more: (raw?.length ?? 0) >= count };
  }

  /** Dispatches everything after the feed's position; one reader per feed at a time (a bell meanwhile means: once more). */
  async function pull(customerId: string, feed: Feed): Promise<void> {
    if (feed.reading || feed.lastId === undefined) {
      feed.again = true;
      return;
    }
    feed.reading = true;
    try {
      do {
        feed.again = false;
        for (;;) {
          const page = await readRange(customerId, feed.lastId);
          for (const entry of page.entries) {
            if (compareEntryIds(entry.id, feed.lastId) <= 0) continue;
            feed.lastId = entry.id;
            for (const listener of feed.listeners) listener(entry);
          }
          if (page.lastId && compareEntryIds(page.lastId, feed.lastId) > 0) feed.lastId = page.lastId; // past malformed entries
          if (!page.more) break;
        }
      } while (feed.again && feeds.get(customerId) === feed);
    } catch (error) {
      // Redis is down: the next reconnection or sweep reads again from the same position.
      hubLog.warn({ customerId, err: (error as Error).message }, "cannot read the change log yet; will catch up");
    } finally {
      feed.reading = false;
    }
  }

  const sweep = () => {
    for (const [customerId, feed] of feeds) void pull(customerId, feed);
  };
  const ringing = bell.subscribe(changeLogBellChannel(prefix), (customerId) => {
    const feed = feeds.get(customerId);
    if (feed) void pull(customerId, feed);
  }).catch((error: Error) => hubLog.error({ err: error.message }, "cannot subscribe to the change log bell"));
  // Bells rung while a connection was down are lost: catch up from the streams instead.
  bell.on("ready", sweep);
  reader.on("ready", sweep);
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();

  /** The current end of a customer's log ("0-0" when empty), retried until Redis answers or nobody listens. */
  async function tail(customerId: string, feed: Feed): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [last] = (await reader.xRevRange(changeLogKey(prefix, customerId), "+", "-", { COUNT: 1 })) ?? [];
        return last ? String(last.id) : "0-0";
      } catch (error) {
        if (closed || feeds.get(customerId) !== feed || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2_000)));
      }
    }
  }

  return {
    readRange,
    /**
     * Follows a customer's log for `listener`: every entry after the returned position
     * is dispatched to it, in order. The position is the log's end when the customer
     * was not followed yet, else the feed's current position.
     * @returns the position (resolves once known) and the function that stops listening.
     */
    listen(customerId: string, listener: ChangeListener): { position: Promise<string>; stop: () => void } {
      let feed = feeds.get(customerId);
      if (!feed) {
        const created: Feed = { listeners: new Set(), lastId: undefined, ready: Promise.resolve("0-0"), reading: false, again: false, recent: new Map() };
        created.ready = tail(customerId, created).then((id) => {
          created.lastId = id;
          void pull(customerId, created);
          return id;
        });
        created.ready.catch(() => {});
        feeds.set(customerId, created);
        feed = created;
      }
      const current = feed;
      current.listeners.add(listener);
      return {
        position: current.lastId !== undefined ? Promise.resolve(current.lastId) : current.ready,
        stop: () => {
          current.listeners.delete(listener);
          if (current.listeners.size === 0 && feeds.get(customerId) === current) feeds.delete(customerId);
        },
      };
    },
    /** Readiness: both connections are up (node-redis resubscribes after a reconnect). */
    async check(): Promise<void> {
      await ringing;
      if (!reader.isReady || !bell.isReady) throw new Error("not connected to Redis");
    },
    /** Customers followed and listeners registered (for metrics and leak tests). */
    stats: () => ({ customers: feeds.size, listeners: [...feeds.values()].reduce((n, f) => n + f.listeners.size, 0) }),
    async close(): Promise<void> {
      closed = true;
      clearInterval(sweeper);
      feeds.clear();
      await Promise.all([reader, bell].map((client) => client.close().catch(() => client.destroy())));
    },
  };
}

export type ChangeHub = ReturnType<typeof createChangeHub>;
