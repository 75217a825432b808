import { Queue, type QueueOptions } from "bullmq";
import type { Redis } from "ioredis";

/**
 * Producer-side BullMQ queues by name, created on first use. A queue whose use failed
 * (Redis down) is dropped and rebuilt next time: BullMQ keeps a failed connection
 * initialisation for the life of a Queue object, so reusing it would fail forever.
 */
export function queueCache(connection: Redis, prefix: string, options: Omit<QueueOptions, "connection" | "prefix"> = {}) {
  const queues = new Map<string, Queue>();
  return {
    get(name: string): Queue {
      let queue = queues.get(name);
      if (!queue) {
        queue = new Queue(name, { ...options, connection, prefix });
        queue.on("error", () => {}); // surfaced by the failing call; its caller logs it
        queues.set(name, queue);
      }
      return queue;
    },
    invalidate(name: string): void {
      const queue = queues.get(name);
      queues.delete(name);
      void queue?.close().catch(() => {});
    },
    async close(): Promise<void> {
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
      queues.clear();
    },
  };
}
