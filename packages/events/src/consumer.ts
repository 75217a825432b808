import { DelayedError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { withTimeout } from "@rentcar/platform";
import type { Logger } from "pino";
import { parseEvent, type DomainEvent, type EventType } from "./contracts.ts";
import type { BindParameter } from "./outbox.ts";
import { queueCache } from "./queue-cache.ts";
import { deadLetterQueueName, queueName, type ConsumerName } from "./routing.ts";
import type { SqlClient, TransactionalClient } from "./sql-client.ts";

/** Applies one event inside the transaction that also records it as processed. */
export type EventHandler<Tx, T extends EventType = EventType> = (event: DomainEvent<T>, tx: Tx) => Promise<void>;

/**
 * A handler that can also apply an event without the consumer's transaction: it records the
 * event in `inbox_event` itself, atomically with its effect (e.g. one guarded statement), so an
 * event costs fewer round trips. {@link applyEvent} prefers it; the plain `(event, tx)` form
 * stays for callers that apply events inside a transaction of their own.
 * @returns false for an event already applied (as `applyEvent`).
 */
export interface SelfRecordingHandler<Tx extends SqlClient, T extends EventType = EventType> extends EventHandler<Tx, T> {
  applyAlone(event: DomainEvent<T>, db: Tx & TransactionalClient<Tx>): Promise<boolean>;
}

/** Handlers of one consumer, by event type. */
export type EventHandlers<Tx> = { [T in EventType]?: EventHandler<Tx, T> };

/** What a dead-lettered job holds: the original data and why it could not be applied. */
export interface DeadLetter {
  sourceQueue: string;
  reason: string;
  failedAt: string;
  data: unknown;
}

export interface ConsumerOptions<Tx extends SqlClient> {
  consumer: ConsumerName;
  db: TransactionalClient<Tx>;
  handlers: EventHandlers<Tx>;
  /** Blocking connection for the worker (`workerConnection`). */
  workerConnection: Redis;
  /** Fail-fast connection for dead-letter writes (`producerConnection`). */
  producerConnection: Redis;
  prefix: string;
  log: Logger;
  /** Called with the event after the write that applied it committed (e.g. to kick the outbox relay). */
  onApplied?(event: DomainEvent): void;
  /** Jobs processed in parallel (default 4). */
  concurrency?: number;
  /**
   * How long a job stays locked to this worker without renewal, in ms (default 30000):
   * after a consumer crash its in-flight jobs are handed out again once this expires.
   */
  lockDurationMs?: number;
}

export interface Consumer {
  worker: Worker;
  /** Waits for the jobs in progress, then disconnects. */
  close(): Promise<void>;
}

/**
 * Applies one event exactly once: records its id in `inbox_event` (unique) in the same
 * transaction as the handler's effect, so a redelivered or duplicated event has one effect
 * (a {@link SelfRecordingHandler} does both itself, atomically).
 * The worker calls it for every job; tests call it directly to deliver events in any order.
 * @returns true when the handler ran, false for an event already applied.
 */
export async function applyEvent<Tx extends SqlClient>(db: TransactionalClient<Tx>, handler: EventHandler<Tx>, event: DomainEvent): Promise<boolean> {
  const alone = (handler as Partial<SelfRecordingHandler<Tx>>).applyAlone;
  if (alone) return alone(event, db as Tx & TransactionalClient<Tx>);
  return db.$transaction(async (tx) => {
    if (!(await recordInInbox(tx, event))) return false;
    await handler(event, tx);
    return true;
  }, { maxWait: 5_000, timeout: 15_000 });
}

/**
 * Records an event as applied, inside the caller's transaction (it waits for a concurrent
 * transaction recording the same event, then sees it).
 * @returns false when it was already recorded, i.e. applied.
 */
export async function recordInInbox(tx: SqlClient, event: Pick<DomainEvent, "eventId" | "type">): Promise<boolean> {
  const values: unknown[] = [];
  const inserted = await tx.$executeRawUnsafe(inboxInsertSql((value) => `$${values.push(value)}`, event), ...values);
  return inserted > 0;
}

/**
 * The inbox insert of one event as SQL (`… ON CONFLICT DO NOTHING RETURNING 1`), parameters
 * through `bind`: for {@link recordInInbox}, or as a data-modifying WITH clause whose siblings
 * write only `WHERE EXISTS (SELECT 1 FROM <that clause>)`, so recording an event and applying it
 * are one autocommit statement (a {@link SelfRecordingHandler}). A concurrent statement
 * recording the same event makes it wait, then insert nothing. `when`: only if this SQL condition holds.
 */
export function inboxInsertSql(bind: BindParameter, event: Pick<DomainEvent, "eventId" | "type">, options: { when?: string } = {}): string {
  return `INSERT INTO inbox_event (event_id, type) SELECT ${bind(event.eventId)}::uuid, ${bind(event.type)}${options.when ? ` WHERE ${options.when}` : ""}
    ON CONFLICT (event_id) DO NOTHING RETURNING 1`;
}

/** How long a job whose dead letter could not be written waits before it is tried again, in ms. */
export const DEAD_LETTER_RETRY_MS = 2_000;

/**
 * Idempotent consumer (see {@link applyEvent}). Invalid events and events without a
 * handler go straight to the dead-letter queue with the reason; a handler that keeps
 * failing is retried with backoff (JOB_OPTIONS) and dead-lettered on its last attempt.
 * The dead-letter write happens inside the job and is awaited: when it fails (Redis
 * away, out of memory) the job is put back as delayed without spending an attempt and
 * tried again until the letter is written. Nothing is dropped, silently or otherwise.
 */
export function startConsumer<Tx extends SqlClient>(options: ConsumerOptions<Tx>): Consumer {
  const { consumer, db, handlers, log, prefix } = options;
  const source = queueName(consumer);
  const deadLetters = queueCache(options.producerConnection, prefix);
  const dlqName = deadLetterQueueName(consumer);
  const deadLetter = async (job: Job, reason: string) => {
    const letter: DeadLetter = { sourceQueue: source, reason, failedAt: new Date().toISOString(), data: job.data };
    try {
      // jobId derived from the source job: a letter written twice (retry after a lost reply) is stored once.
      await withTimeout(deadLetters.get(dlqName).add("dead-letter", letter, { jobId: `${job.id}-dead` }), 3_000,
        "Redis did not accept the dead letter");
    } catch (error) {
      deadLetters.invalidate(dlqName);
      throw error;
    }
    log.error({ reason, reservationId: (job.data as { reservationId?: string })?.reservationId }, "event dead-lettered");
  };
  /** Dead-letters the job, or, when that fails, parks it (delayed, no attempt spent) to try again. */
  const deadLetterOrRetry = async (job: Job, token: string | undefined, reason: string) => {
    try {
      await deadLetter(job, reason);
    } catch (error) {
      log.warn({ eventId: job.id, reason, err: (error as Error).message }, "dead letter not written; the job is kept and retried");
      await job.moveToDelayed(Date.now() + DEAD_LETTER_RETRY_MS, token);
      throw new DelayedError();
    }
  };

  /** @returns the reason to dead-letter the job, or undefined when it was applied (or was a duplicate). */
  const apply = async (job: Job): Promise<string | undefined> => {
    const parsed = parseEvent(job.data);
    if (!parsed.ok) return `invalid event: ${parsed.reason}`;
    const event = parsed.event;
    const handler = handlers[event.type] as EventHandler<Tx> | undefined;
    if (!handler) return `${consumer} has no handler for ${event.type}`;
    const applied = await applyEvent(db, handler, event);
    log.child({ reservationId: event.reservationId, eventId: event.eventId, eventType: event.type })
      .info({ attempt: job.attemptsMade + 1 }, applied ? "event applied" : "duplicate event ignored");
    if (applied) options.onApplied?.(event);
    return undefined;
  };

  const process = async (job: Job, token?: string) => {
    let reason: string | undefined;
    try {
      reason = await apply(job);
    } catch (error) {
      const attempt = job.attemptsMade + 1;
      const lastAttempt = attempt >= (job.opts.attempts ?? 1);
      log.warn({ eventId: job.id, attempt, lastAttempt, err: (error as Error).message }, "event handler failed");
      if (!lastAttempt) throw error; // BullMQ retries it with backoff
      reason = `failed ${attempt} times: ${(error as Error).message}`;
    }
    if (reason !== undefined) await deadLetterOrRetry(job, token, reason);
  };

  const worker = new Worker(source, process, {
    connection: options.workerConnection,
    prefix,
    concurrency: options.concurrency ?? 4,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: Math.max(1_000, Math.floor((options.lockDurationMs ?? 30_000) / 2)),
  });
  // The processor dead-letters on the last attempt itself, so a job only ends "failed"
  // outside its control (e.g. stalled more often than BullMQ allows): say so loudly;
  // `npm run queues -- retry <consumer>` puts such jobs back.
  worker.on("failed", (job, error) => {
    if (job?.finishedOn) log.error({ eventId: job.id, attempt: job.attemptsMade, err: error.message }, "event job failed for good; retry it with npm run queues");
  });
  let connectionLost = false;
  worker.on("error", (error) => {
    if (!connectionLost) log.warn({ err: error.message }, "event worker lost Redis; reconnecting (jobs wait in Redis)");
    connectionLost = true;
  });
  worker.on("ready", () => {
    if (connectionLost) log.info("event worker reconnected to Redis");
    connectionLost = false;
  });
  return {
    worker,
    async close() {
      // Graceful while Redis answers; bounded, so a dead Redis cannot block shutdown.
      if (options.workerConnection.status !== "ready") {
        await Promise.race([worker.close(true), new Promise((r) => setTimeout(r, 1_000).unref())]);
        return;
      }
      const graceful = Promise.all([worker.close(), deadLetters.close()]);
      const timedOut = await Promise.race([graceful.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 5_000).unref())]);
      if (timedOut) {
        log.warn("event worker did not close within 5 s; forcing it");
        await Promise.race([worker.close(true), new Promise((r) => setTimeout(r, 1_000).unref())]);
      }
    },
  };
}
