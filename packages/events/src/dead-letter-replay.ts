import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { DeadLetter } from "./consumer.ts";
import { deadLetterQueueName, JOB_OPTIONS, queueName, type ConsumerName } from "./routing.ts";

/**
 * Puts every dead letter of `consumer` back on its queue (with the normal retry policy)
 * and removes it from the dead-letter queue; resolves with how many were replayed. Used by
 * `npm run queues -- replay-dead-letters` and the queue dashboard alike. Safe to repeat or
 * to race: consumers are idempotent (inbox), so an event that was in fact applied has no
 * second effect, and an event that is still invalid is dead-lettered again.
 */
export async function replayDeadLetters(connection: Redis, prefix: string, consumer: ConsumerName): Promise<number> {
  const dlq = new Queue(deadLetterQueueName(consumer), { connection, prefix });
  const target = new Queue(queueName(consumer), { connection, prefix });
  try {
    let replayed = 0;
    for (const job of await dlq.getJobs(["waiting", "delayed"])) {
      const letter = job.data as DeadLetter;
      const data = letter.data as { type?: string; eventId?: string };
      // A new job id: the original one may still be held by BullMQ as failed/completed.
      await target.add(data?.type ?? "replay", letter.data, { ...JOB_OPTIONS, jobId: `${data?.eventId ?? job.id}-replay-${job.id}` });
      await job.remove();
      replayed++;
    }
    return replayed;
  } finally {
    await Promise.all([dlq.close(), target.close()]);
  }
}
