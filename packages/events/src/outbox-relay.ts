import { deleteOlderThan, startPeriodicTask } from "@rentcar/platform";
import type { Logger } from "pino";
import type { DomainEvent } from "./contracts.ts";
import type { EventPublisher } from "./publisher.ts";
import { BROADCASTS } from "./routing.ts";
import type { SqlClient, TransactionalClient } from "./sql-client.ts";

export interface OutboxRelayOptions<Tx extends SqlClient> {
  db: TransactionalClient<Tx> & SqlClient;
  publisher: EventPublisher;
  log: Logger;
  /** Rows per round (default 100). */
  batchSize?: number;
  /** Idle poll interval in ms (default 200); `kick()` skips the wait after a local commit. */
  pollIntervalMs?: number;
  /** How long published rows are kept, in ms (`OUTBOX_RETENTION`, default 1 h); then {@link pruneOutbox} deletes them. */
  retentionMs?: number;
  /** Pause between two prunes, in ms (default 60 s). */
  pruneIntervalMs?: number;
  /**
   * Lanes to run (default both). A service whose outbox never holds BROADCASTS runs only
   * `saga`: an idle change lane costs a transaction of three statements per poll and per kick.
   */
  lanes?: readonly OutboxLane[];
  /**
   * Relay the saga lane with claims instead of a transaction (see {@link relayOnce}): two
   * statements per batch instead of three, one per empty round instead of three. Off by default:
   * a claimed row's `available_at` lies ahead while it is being published, which an outbox whose
   * own code or tests read `available_at` (reservation's delayed registration) must allow for.
   */
  sagaClaims?: boolean;
}

/** Default `OUTBOX_RETENTION`: published rows are kept 1 h (for operators and tests to inspect), then deleted. */
export const DEFAULT_OUTBOX_RETENTION_MS = 3_600_000;

export interface OutboxRelay {
  /**
   * Publishes soon instead of at the next poll (call after committing events): the given lane,
   * or every lane. Naming the lane saves the others an empty round (a transaction of three
   * statements, or one statement with saga claims) per commit; an event in a lane not kicked is still published at the next poll.
   */
  kick(lane?: OutboxLane): void;
  /** Stops after the round in progress. */
  stop(): Promise<void>;
}

/**
 * The outbox is relayed in two lanes, so neither can hold the other up:
 * - `saga`: events for the queues; several replicas relay disjoint batches in parallel
 *   (`FOR UPDATE SKIP LOCKED`, and claims if asked, see {@link relayOnce}); consumers do not
 *   depend on publication order.
 * - `changes`: the customer change log (BROADCASTS). One relay at a time (a transaction
 *   advisory lock), oldest row first: the projection locks a reservation's row while it
 *   writes a version, so version n is committed before version n+1 exists, and a single
 *   relay therefore appends a reservation's versions in order (the log's dedupe relies on it).
 */
export type OutboxLane = "saga" | "changes";
export const OUTBOX_LANES: readonly OutboxLane[] = ["saga", "changes"];

/** Advisory lock key of the change lane (any constant unique in the database). */
const CHANGE_LANE_LOCK = 7_310_224_010;

/**
 * How long the saga lane's claim on a batch lasts, in ms: rows a relay claimed and did not mark
 * published within it (the relay died, or the database was away after the publish) are claimed
 * and published again by any relay. Well above the publish timeout (3 s), so a live relay marks
 * its batch long before; a late mark after all only means an event published twice, which the
 * queues drop (jobId = eventId) and the consumers' inbox would make harmless anyway.
 */
export const SAGA_CLAIM_MS = 10_000;

/**
 * Publishes one batch of pending outbox rows of `lane` and marks them sent. The pick uses the
 * partial index of pending rows (`outbox_event_pending_seq_idx`), so a round costs O(pending),
 * however many sent rows are still kept. Rows whose `available_at` lies ahead wait (see
 * outboxInsertSql). A row another relay published meanwhile is re-checked at its latest version
 * by the UPDATE and skipped. At least once: a row is marked only after Redis accepted it.
 * - By default, one transaction of three statements (BEGIN, one UPDATE ... RETURNING that picks,
 *   locks and marks the batch, COMMIT); a failed publish rolls back the marks. In the change lane
 *   the UPDATE also takes the lane's advisory lock (an InitPlan evaluated once) and holds it until
 *   the batch is appended: a relay that does not get it sees no rows, so batches are appended one
 *   after another, in order.
 * - `saga` lane with `options.claim`: two autocommit statements, no transaction. One UPDATE ...
 *   RETURNING claims the batch by moving its `available_at` {@link SAGA_CLAIM_MS} ahead (other
 *   relays skip it), then, after the publish, one UPDATE marks it sent; a failed publish gives the
 *   claim back at once, a relay that dies after claiming leaves the batch to any relay once the
 *   claim lapses. An empty round is the one claiming statement (instead of three).
 * @returns the number of events published (0 when another replica holds the change lane).
 */
export async function relayOnce<Tx extends SqlClient>(db: TransactionalClient<Tx> & SqlClient, publisher: EventPublisher, batchSize = 100, lane: OutboxLane = "saga",
  options: { claim?: boolean } = {}): Promise<number> {
  return lane === "saga" && options.claim ? relayClaimedBatch(db, publisher, batchSize) : relayInTransaction(db, publisher, batchSize, lane);
}

type RelayedRow = { id: string; seq: bigint | number | string; payload: DomainEvent };

/** RETURNING has no order: the events in outbox order (the change lane relies on it). */
const inOutboxOrder = (rows: RelayedRow[]) => rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1)).map((r) => r.payload);

async function relayClaimedBatch(db: SqlClient, publisher: EventPublisher, batchSize: number): Promise<number> {
  const rows = await db.$queryRawUnsafe<RelayedRow[]>(
    `UPDATE outbox_event SET available_at = now() + $3::int * interval '1 millisecond' WHERE id IN (
       SELECT id FROM outbox_event
        WHERE published_at IS NULL AND available_at <= now() AND NOT (type = ANY($2::text[]))
        ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id::text AS id, seq::text AS seq, payload`,
    batchSize, [...BROADCASTS], SAGA_CLAIM_MS,
  );
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  try {
    await publisher.publish(inOutboxOrder(rows));
  } catch (error) {
    // Give the claim back so the next round retries at once; if even that fails, the claim lapses.
    await db.$executeRawUnsafe(`UPDATE outbox_event SET available_at = now() WHERE id = ANY($1::uuid[]) AND published_at IS NULL`, ids).catch(() => {});
    throw error;
  }
  await db.$executeRawUnsafe(`UPDATE outbox_event SET published_at = now() WHERE id = ANY($1::uuid[])`, ids);
  return rows.length;
}

async function relayInTransaction<Tx extends SqlClient>(db: TransactionalClient<Tx>, publisher: EventPublisher, batchSize: number, lane: OutboxLane): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<RelayedRow[]>(
      `UPDATE outbox_event SET published_at = now() WHERE id IN (
         SELECT id FROM outbox_event
          WHERE published_at IS NULL AND available_at <= now() AND ${lane === "changes" ? "type = ANY($2::text[]) AND (SELECT pg_try_advisory_xact_lock($3::bigint))" : "NOT (type = ANY($2::text[]))"}
          ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, seq::text AS seq, payload`,
      batchSize, [...BROADCASTS], ...(lane === "changes" ? [CHANGE_LANE_LOCK] : []),
    );
    if (rows.length === 0) return 0;
    await publisher.publish(inOutboxOrder(rows));
    return rows.length;
  }, { maxWait: 5_000, timeout: 15_000 });
}

/**
 * Deletes published outbox rows older than `retentionMs`, in batches of `batchSize`
 * (short statements). Pending rows are never deleted. Without it the table (and the
 * relay's index scans on a PostgreSQL without autovacuum) would grow with every event.
 * @returns how many rows were deleted.
 */
export async function pruneOutbox(db: SqlClient, retentionMs: number, batchSize = 1_000): Promise<number> {
  return deleteOlderThan(db, "outbox_event", "published_at", retentionMs, batchSize);
}

/**
 * Runs one relay loop per lane until stopped: a full batch is followed at once by the
 * next, an empty one waits `pollIntervalMs` (or a `kick()`); failures (Redis or the
 * database down) are logged once and retried with backoff up to 5 s. Events are never dropped.
 * Published rows are pruned after `retentionMs` (every `pruneIntervalMs`).
 */
export function startOutboxRelay<Tx extends SqlClient>(options: OutboxRelayOptions<Tx>): OutboxRelay {
  const laneNames = options.lanes ?? OUTBOX_LANES;
  const lanes = laneNames.map((lane) => startLane(options, lane));
  const retentionMs = options.retentionMs ?? DEFAULT_OUTBOX_RETENTION_MS;
  const pruner = startPeriodicTask({
    name: "outbox-pruner",
    intervalMs: options.pruneIntervalMs ?? 60_000,
    log: options.log,
    run: async () => {
      const deleted = await pruneOutbox(options.db, retentionMs);
      if (deleted > 0) options.log.debug({ deleted }, "published outbox rows pruned");
    },
  });
  return {
    kick: (only?: OutboxLane) => { for (const [i, lane] of lanes.entries()) if (!only || laneNames[i] === only) lane.kick(); },
    stop: async () => { await Promise.all([...lanes.map((lane) => lane.stop()), pruner.close()]); },
  };
}

function startLane<Tx extends SqlClient>(options: OutboxRelayOptions<Tx>, lane: OutboxLane): OutboxRelay {
  const { db, publisher } = options;
  const log = options.log.child({ lane });
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  let running = true;
  let wake: (() => void) | undefined;
  // A kick during a round (a commit while the previous batch was being published) is
  // remembered: the next round starts at once instead of after the poll interval. Any
  // number of kicks during one round cost one more round, so busy commits are batched.
  let kicked = false;
  let failures = 0;
  // After a failure (Redis or the database away) only stop() cuts the backoff short, not
  // kicks: commits keep coming while Redis is down and must not turn the backoff into a spin.
  const sleep = (ms: number, wakeOnKick = true) => new Promise<void>((resolve) => {
    if (!running || (wakeOnKick && kicked)) return resolve();
    const timer = setTimeout(resolve, ms);
    const stopOrKick = () => { clearTimeout(timer); resolve(); };
    wake = wakeOnKick ? stopOrKick : () => { if (!running) stopOrKick(); };
  });
  const loop = (async () => {
    while (running) {
      try {
        kicked = false;
        const published = await relayOnce(db, publisher, batchSize, lane, { claim: options.sagaClaims ?? false });
        if (failures > 0) log.info({ afterFailures: failures }, "outbox relay recovered");
        failures = 0;
        if (published > 0) log.debug({ published }, "outbox events published");
        if (published < batchSize) await sleep(pollIntervalMs);
      } catch (error) {
        if (failures === 0) log.warn({ err: (error as Error).message }, "outbox relay cannot publish; events stay in the outbox and are retried");
        failures++;
        await sleep(Math.min(pollIntervalMs * 2 ** failures, 5_000), false);
      }
    }
  })();
  return {
    kick: () => {
      kicked = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
