import type { Logger } from "pino";
import { startConsumer, type Consumer, type EventHandlers } from "./consumer.ts";
import type { DomainEvent } from "./contracts.ts";
import { OUTBOX_LANES, startOutboxRelay, type OutboxLane, type OutboxRelay } from "./outbox-relay.ts";
import { createPublisher } from "./publisher.ts";
import { producerConnection, workerConnection } from "./redis-connection.ts";
import type { ConsumerName } from "./routing.ts";
import type { SqlClient, TransactionalClient } from "./sql-client.ts";

export interface EventBusOptions<Tx extends SqlClient> {
  /** The subgraph: its queue is `<name>-events`. */
  name: ConsumerName;
  db: TransactionalClient<Tx> & SqlClient;
  handlers: EventHandlers<Tx>;
  redisUrl: string;
  /** BullMQ key prefix (`QUEUE_PREFIX`); tests use a unique one. */
  prefix: string;
  log: Logger;
  /** Lock of an in-flight job, in ms (`EVENT_LOCK_MS`): how soon a crashed consumer's jobs are retried. */
  lockDurationMs?: number;
  /** Retention of the customer change log in ms (`CHANGE_LOG_RETENTION`); only the reservation subgraph writes to it. */
  changeLogRetentionMs?: number;
  /** How long published outbox rows are kept, in ms (`OUTBOX_RETENTION`, default 1 h). */
  outboxRetentionMs?: number;
  /**
   * Whether this subgraph's outbox holds BROADCASTS (MyReservationChanged; only reservation's
   * does). Default true; false skips the relay's change lane, whose empty polls and kicks
   * otherwise cost a transaction (3 statements) each.
   */
  broadcasts?: boolean;
  /** Relay the saga lane with claims instead of transactions (`OutboxRelayOptions.sagaClaims`). */
  sagaClaims?: boolean;
  /** Event jobs applied at once by this process (`EVENT_CONCURRENCY`); see {@link ConsumerOptions.concurrency}. */
  concurrency?: number;
  /**
   * The one outbox lane the handler of `event` writes to, when it is only one (default: every
   * lane is kicked after an applied event). Reservation's handlers mostly write only the view's
   * MyReservationChanged: kicking just the change lane saves the saga lane an empty round.
   * A wrong answer only delays the other lane's events to its next poll; they are never lost.
   */
  laneWrittenBy?(event: DomainEvent): OutboxLane | undefined;
}

/** A subgraph's side of the event flow: its outbox relay and its idempotent consumer. */
export interface EventBus {
  relay: OutboxRelay;
  consumer: Consumer;
  /** Stops consuming (jobs in progress finish), stops the relay, disconnects from Redis. */
  close(): Promise<void>;
}

/** Starts the outbox relay and the consumer of one subgraph. */
export function startEventBus<Tx extends SqlClient>(options: EventBusOptions<Tx>): EventBus {
  const log = options.log.child({ component: "events" });
  const producer = producerConnection(options.redisUrl);
  const workerRedis = workerConnection(options.redisUrl);
  for (const connection of [producer, workerRedis]) connection.on("error", () => {}); // logged by relay/worker
  const publisher = createPublisher(producer, options.prefix,
    options.changeLogRetentionMs ? { changeLogRetentionMs: options.changeLogRetentionMs } : {});
  const relay = startOutboxRelay({
    db: options.db, publisher, log, lanes: options.broadcasts === false ? ["saga"] : OUTBOX_LANES, sagaClaims: options.sagaClaims ?? false,
    ...(options.outboxRetentionMs ? { retentionMs: options.outboxRetentionMs } : {}),
  });
  const consumer = startConsumer({
    consumer: options.name,
    db: options.db,
    handlers: options.handlers,
    workerConnection: workerRedis,
    producerConnection: producer,
    prefix: options.prefix,
    log,
    // Events written by a handler go out at once instead of at the next poll.
    onApplied: (event) => relay.kick(options.laneWrittenBy?.(event)),
    ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  return {
    relay,
    consumer,
    async close() {
      await consumer.close();
      await relay.stop();
      await Promise.race([publisher.close(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      producer.disconnect();
      workerRedis.disconnect();
    },
  };
}
