import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForAgreement } from "../src/agreement.ts";
import { startBenchStack, type BenchStack } from "../src/bench-stack.ts";
import { Cleanup } from "../src/cleanup.ts";
import { errorCodeOf } from "../src/http.ts";
import { measureCapacity, overload } from "../src/saturation.ts";
import { RESERVE } from "../src/saga.ts";

const cleanup = new Cleanup();
let stack: BenchStack;
const never = new AbortController().signal;

beforeAll(async () => { stack = await startBenchStack({ cleanup }); }, 180_000);
afterAll(async () => { expect(await cleanup.runAll()).toEqual([]); }, 60_000);

describe("beyond capacity", () => {
  it("sagas offered at twice the measured capacity for 20 s: no INTERNAL_SERVER_ERROR (only successes, 503 OVERLOADED or SERVICE_UNAVAILABLE); afterwards the databases and the read model agree", async () => {
    const capacity = await measureCapacity(stack, 5_000, never);
    const outcome = await overload(stack, Math.max(4, 2 * capacity), 20_000, never);
    expect(JSON.stringify(outcome.errors)).toBe("{}");
    expect(outcome.completed).toBeGreaterThan(0);
    const { rows } = await waitForAgreement(stack, 90_000);
    expect(rows.length).toBeGreaterThanOrEqual(outcome.completed);
  }, 240_000);

  it("a subgraph's own refusal reaches the client as HTTP 503, OVERLOADED and Retry-After, and the refused reservations do not exist", async () => {
    // Reservation admits one request at a time and queues none: concurrent reserveCar calls are refused there.
    await stack.stack.restart("reservation", { envOverrides: { ADMISSION_MAX_CONCURRENT: "1", ADMISSION_MAX_QUEUED: "0" } });
    const before = (await waitForAgreement(stack, 30_000)).rows.length;
    const auth = await stack.auth("bench-refused");
    const replies = await Promise.all(Array.from({ length: 8 }, () => stack.router.post<{ reserveCar: { id: string } }>(RESERVE, { input: stack.nextSlot() }, auth)));
    const refused = replies.filter((r) => errorCodeOf(r) === "OVERLOADED");
    const created = replies.filter((r) => !errorCodeOf(r));
    expect(refused.length + created.length).toBe(replies.length);
    expect(refused.length).toBeGreaterThan(0);
    for (const reply of refused) {
      expect(reply.status).toBe(503);
      expect(reply.retryAfterS).toBe(1);
      expect(reply.errors).toHaveLength(1);
      expect(reply.errors![0]).toMatchObject({ message: "a service is at capacity; nothing was done, retry after 1 s", extensions: { code: "OVERLOADED", retryAfterSeconds: 1 } });
    }
    const { rows } = await waitForAgreement(stack, 30_000);
    expect(rows.length - before).toBe(created.length);
  }, 120_000);
});
