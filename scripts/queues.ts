/**
 * Operator view of the event queues (BullMQ on Redis). Redis and the queue prefix come from
 * the local stack configuration (REDIS_URL, QUEUE_PREFIX; by default the running `npm start`).
 *
 *   npm run queues                                   depth of every queue and its dead-letter queue
 *   npm run queues -- dead-letters <consumer>        list dead-lettered events with their reasons
 *   npm run queues -- retry <consumer>               retry the failed jobs of a queue
 *   npm run queues -- replay-dead-letters <consumer> put dead-lettered events back on their queue
 *
 * <consumer> is reservation, payment or rental. Replaying is safe: consumers are
 * idempotent (inbox), so an event that was in fact applied has no second effect.
 */
import { deadLetterQueueName, queueName, replayDeadLetters, toolConnection, type ConsumerName, type DeadLetter } from "@rentcar/events";
import { resolveToolConfig } from "@rentcar/platform/local-stack";
import { Queue } from "bullmq";
import { exitOnSignals, toolConfig } from "./tool-config.ts";

const CONSUMERS: ConsumerName[] = ["reservation", "payment", "rental"];
const config = toolConfig("queues", resolveToolConfig);
const redisUrl = config.redisUrl ?? "redis://127.0.0.1:6379";
const connection = toolConnection(redisUrl);
const prefix = config.queuePrefix;
exitOnSignals(async () => connection.disconnect());
const open = (name: string) => new Queue(name, { connection, prefix });

function consumerArg(value: string | undefined): ConsumerName {
  if (CONSUMERS.includes(value as ConsumerName)) return value as ConsumerName;
  console.error(`name a consumer: ${CONSUMERS.join(" | ")}`);
  process.exit(2);
}

async function depths() {
  const rows = [];
  for (const consumer of CONSUMERS) {
    const counts = await open(queueName(consumer)).getJobCounts("waiting", "active", "delayed", "failed", "completed");
    const dead = await open(deadLetterQueueName(consumer)).count();
    rows.push({ queue: queueName(consumer), ...counts, "dead-letter": dead });
  }
  console.log(`prefix "${prefix}"`);
  console.table(rows);
}

async function listDeadLetters(consumer: ConsumerName) {
  const jobs = await open(deadLetterQueueName(consumer)).getJobs(["waiting", "delayed"]);
  if (jobs.length === 0) console.log(`no dead letters for ${consumer}`);
  for (const job of jobs) {
    const letter = job.data as DeadLetter;
    const data = letter.data as { type?: string; eventId?: string; reservationId?: string };
    console.log(`${job.id}  ${letter.failedAt}  ${data?.type ?? "?"} ${data?.eventId ?? ""} reservation=${data?.reservationId ?? "?"}\n    ${letter.reason}`);
  }
}

async function retryFailed(consumer: ConsumerName) {
  const queue = open(queueName(consumer));
  const failed = await queue.getJobCountByTypes("failed");
  await queue.retryJobs({ state: "failed" });
  console.log(`retrying ${failed} failed job(s) of ${queueName(consumer)}`);
}

async function replay(consumer: ConsumerName) {
  const replayed = await replayDeadLetters(connection, prefix, consumer);
  console.log(`replayed ${replayed} dead letter(s) onto ${queueName(consumer)}`);
}

const [command, arg] = process.argv.slice(2);
try {
  if (!command) await depths();
  else if (command === "dead-letters") await listDeadLetters(consumerArg(arg));
  else if (command === "retry") await retryFailed(consumerArg(arg));
  else if (command === "replay-dead-letters") await replay(consumerArg(arg));
  else {
    console.error("usage: npm run queues [-- dead-letters|retry|replay-dead-letters <consumer>]");
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`queues: ${(error as Error).message} (REDIS_URL=${redisUrl})`);
  process.exitCode = 1;
} finally {
  connection.disconnect();
  process.exit();
}
