import type { Logger } from "pino";
import type { DomainEvent } from "./contracts.ts";
import type { EventPublisher } from "./publisher.ts";
import type { SqlClient, TransactionalClient } from "./sql-client.ts";

export interface OutboxRelayOptions<Tx extends SqlClient> {
  db: TransactionalClient<Tx>;
  publisher: EventPublisher;
  log: Logger;
  /** Rows per round (default 100). */
  batchSize?: number;
  /** Idle poll interval in ms (default 200); `kick()` skips the wait after a local commit. */
  pollIntervalMs?: number;
}

export interface OutboxRelay {
  /** Publishes soon instead of at the next poll (call after committing events). */
  kick(): void;
  /** Stops after the round in progress. */
  stop(): Promise<void>;
}

/**
 * Publishes one batch of pending outbox rows and marks them sent, in one transaction:
 * rows are locked `FOR UPDATE SKIP LOCKED`, so several replicas relay disjoint batches,
 * and a failed publish rolls back the marks, leaving the rows pending for the next round.
 * @returns the number of events published.
 */
export async function relayOnce<Tx extends SqlClient>(db: TransactionalClient<Tx>, publisher: EventPublisher, batchSize = 100): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<{ id: string; payload: DomainEvent }[]>(
      `SELECT id, payload FROM outbox_event WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      batchSize,
    );
    if (rows.length === 0) return 0;
    await publisher.publish(rows.map((r) => r.payload));
    await tx.$executeRawUnsafe(`UPDATE outbox_event SET published_at = now() WHERE id = ANY($1::uuid[])`, rows.map((r) => r.id));
    return rows.length;
  }, { maxWait: 5_000, timeout: 15_000 });
}

/**
 * Runs the relay loop until stopped: a full batch is followed at once by the next,
 * an empty one waits `pollIntervalMs` (or a `kick()`); failures (Redis or the database
 * down) are logged once and retried with backoff up to 5 s. Events are never dropped.
 */
export function startOutboxRelay<Tx extends SqlClient>(options: OutboxRelayOptions<Tx>): OutboxRelay {
  const { db, publisher, log } = options;
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  let running = true;
  let wake: (() => void) | undefined;
  let failures = 0;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });
  const loop = (async () => {
    while (running) {
      try {
        const published = await relayOnce(db, publisher, batchSize);
        if (failures > 0) log.info({ afterFailures: failures }, "outbox relay recovered");
        failures = 0;
        if (published > 0) log.debug({ published }, "outbox events published");
        if (published < batchSize) await sleep(pollIntervalMs);
      } catch (error) {
        if (failures === 0) log.warn({ err: (error as Error).message }, "outbox relay cannot publish; events stay in the outbox and are retried");
        failures++;
        await sleep(Math.min(pollIntervalMs * 2 ** failures, 5_000));
      }
    }
  })();
  return {
    kick: () => wake?.(),
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
