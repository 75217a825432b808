import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { startRedisServer, type RedisServer } from "@rentcar/devstack";
import { createLogger } from "@rentcar/platform";
import { createTestDatabase, type TestDatabase } from "@rentcar/testkit";
import { Queue } from "bullmq";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsumer, type DeadLetter } from "../src/consumer.ts";
import { createEvent } from "../src/contracts.ts";
import { producerConnection, workerConnection } from "../src/redis-connection.ts";
import { deadLetterQueueName, queueName } from "../src/routing.ts";
import { pgClient } from "./pg-client.ts";

// The job queue lives on the shared Redis (unique prefix); the dead letters go through the
// producer connection to a Redis of our own, which this test stops and starts again.
const QUEUE_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `rentcar-test-dlq-${randomBytes(4).toString("hex")}`;

let database: TestDatabase;
let pool: pg.Pool;
let dataDir: string;
let dlqRedis: RedisServer;
beforeAll(async () => {
  database = await createTestDatabase("payment");
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  pool.on("error", () => {});
  dataDir = mkdtempSync(join(tmpdir(), "rentcar-dlq-redis-"));
  dlqRedis = await startRedisServer(dataDir);
});
afterAll(async () => {
  await dlqRedis?.stop();
  await pool?.end();
  await database?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Polls `probe` every 100 ms; fails after `timeoutMs` saying what it waited for. */
async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe("dead letters are never dropped", () => {
  it("keeps a job whose dead-letter write fails (its Redis stopped) and writes the letter once Redis is back", async () => {
    const workerRedis = workerConnection(QUEUE_REDIS_URL);
    const producer = producerConnection(dlqRedis.url);
    producer.on("error", () => {});
    let calls = 0;
    const consumer = startConsumer({
      consumer: "payment",
      db: pgClient(pool),
      handlers: {
        // Fails on every attempt; the first failure happens while the dead-letter Redis is down.
        ReservationCancelled: async () => {
          calls++;
          if (calls === 1) await dlqRedis.stop();
          throw new Error("handler broken on purpose");
        },
      },
      workerConnection: workerRedis,
      producerConnection: producer,
      prefix,
      log: createLogger("dead-letter-test", "silent"),
    });
    const queueRedis = workerConnection(QUEUE_REDIS_URL);
    const source = new Queue(queueName("payment"), { connection: queueRedis, prefix });
    try {
      const event = createEvent("ReservationCancelled", { reservationId: randomUUID(), customerId: "alice" }, { carId: "car-001", amount: 1 });
      // One attempt: the first failure is already the last one, so it must be dead-lettered.
      await source.add(event.type, event, { jobId: event.eventId, attempts: 1 });

      await waitFor("the handler to fail with the dead-letter Redis stopped", async () => calls >= 1);
      await waitFor("the job to leave the active state", async () => ["delayed", "failed"].includes(await source.getJobState(event.eventId)));
      // Still retryable (parked without spending an attempt), not failed for good with its letter lost.
      expect(await source.getJobState(event.eventId)).toBe("delayed");

      dlqRedis = await startRedisServer(dataDir, dlqRedis.port);
      const dlqConnection = workerConnection(dlqRedis.url);
      const dlq = new Queue(deadLetterQueueName("payment"), { connection: dlqConnection, prefix });
      try {
        await waitFor("the dead letter to be written", async () => (await dlq.count()) === 1);
        await waitFor("the source job to complete", async () => (await source.getJobState(event.eventId)) === "completed");
        const [letter] = (await dlq.getJobs(["waiting"])).map((j) => j.data as DeadLetter);
        expect(letter).toMatchObject({ sourceQueue: queueName("payment"), data: { eventId: event.eventId } });
        expect(letter!.reason).toMatch(/handler broken on purpose/);
        expect(await dlq.count()).toBe(1);
      } finally {
        await dlq.close();
        dlqConnection.disconnect();
      }
    } finally {
      await consumer.close();
      await source.obliterate({ force: true }).catch(() => {});
      await source.close();
      queueRedis.disconnect();
      workerRedis.disconnect();
      producer.disconnect();
    }
  });
});
