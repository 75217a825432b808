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
   * `saga`: an idle change lane costs a transaction per poll and per kick.
   */
  lanes?: readonly OutboxLane[];
}

/** Default `OUTBOX_RETENTION`: published rows are kept 1 h (for operators and tests to inspect), then deleted. */
export const DEFAULT_OUTBOX_RETENTION_MS = 3_600_000;

export interface OutboxRelay {
  /**
   * Publishes soon instead of at the next poll (call after committing events): the given lane,
   * or every lane. Naming the lane saves the others an empty round (a transaction of three
   * statements) per commit; an event in a lane not kicked is still published at the next poll.
   */
  kick(lane?: OutboxLane): void;
  /** Stops after the round in progress. */
  stop(): Promise<void>;
}

/**
 * The outbox is relayed in two lanes, so neither can hold the other up:
 * - `saga`: events for the queues; several replicas relay disjoint batches in parallel
 *   (`FOR UPDATE SKIP LOCKED`); consumers do not depend on publication order.
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
 * Publishes one batch of pending outbox rows of `lane` and marks them sent, in one
 * transaction of three statements (BEGIN, one UPDATE ... RETURNING that picks, locks and
 * marks the batch, COMMIT); a failed publish rolls back the marks, leaving the rows
 * pending for the next round. The pick uses the partial index of pending rows
 * (`outbox_event_pending_seq_idx`), so a round costs O(pending), however many sent rows
 * are still kept. Rows whose `available_at` lies ahead wait (see outboxInsertSql). The change lane takes its advisory lock in the same statement (an
 * InitPlan evaluated once): a relay that does not get it sees no rows. A row another relay
 * published meanwhile is re-checked at its latest version by the UPDATE and skipped.
 * @returns the number of events published (0 when another replica holds the change lane).
 */
export async function relayOnce<Tx extends SqlClient>(db: TransactionalClient<Tx>, publisher: EventPublisher, batchSize = 100, lane: OutboxLane = "saga"): Promise<number> {
  const types = [...BROADCASTS];
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<{ seq: bigint | number | string; payload: DomainEvent }[]>(
      `UPDATE outbox_event SET published_at = now() WHERE id IN (
         SELECT id FROM outbox_event
          WHERE published_at IS NULL AND available_at <= now() AND ${lane === "changes" ? "type = ANY($2::text[]) AND (SELECT pg_try_advisory_xact_lock($3::bigint))" : "NOT (type = ANY($2::text[]))"}
          ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING seq::text AS seq, payload`,
      batchSize, types, ...(lane === "changes" ? [CHANGE_LANE_LOCK] : []),
    );
    if (rows.length === 0) return 0;
    // RETURNING has no order: publish in outbox order (the change lane relies on it).
    rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    await publisher.publish(rows.map((r) => r.payload));
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
        const published = await relayOnce(db, publisher, batchSize, lane);
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
