import { waitForAgreement } from "../src/agreement.ts";
import { measureCapacity, overload } from "../src/saturation.ts";
import type { Scenario } from "../src/scenario.ts";

/**
 * Beyond capacity: measures saga capacity (closed loop, 32 clients), then offers twice
 * that rate open-loop for 20 s. Every answer must be a success or a clean shed (HTTP 503,
 * OVERLOADED, Retry-After); afterwards the three databases and the read model must agree,
 * and the time they take to settle is how long events lag behind once the burst ends.
 */
export const scenario: Scenario = {
  name: "saturation",
  title: "sagas offered at 2× measured capacity for 20 s: only successes or clean 503 OVERLOADED; stores agree afterwards",
  budgetMs: 150_000,
  async run(ctx) {
    const capacity = await measureCapacity(ctx.stack, ctx.pick(10_000, 1_000), ctx.signal);
    ctx.record("capacity (32 clients, closed loop)", round1(capacity), "sagas/s");
    const outcome = await overload(ctx.stack, Math.max(2, 2 * capacity), ctx.pick(20_000, 2_000), ctx.signal);
    ctx.record("offered", round1(outcome.offeredPerS), "sagas/s");
    ctx.record("completed", round1(outcome.completedPerS), "sagas/s");
    ctx.record("shed (503 OVERLOADED)", outcome.shed, "requests");
    ctx.record("SERVICE_UNAVAILABLE after 3 idempotent retries", outcome.unavailable, "requests");
    ctx.record("PAYMENT_DELAYED", outcome.delayed, "reservations");
    ctx.record("reserveCar p50 (completed sagas)", outcome.reserve.p50, "ms");
    ctx.record("reserveCar p99 (completed sagas)", outcome.reserve.p99, "ms");
    ctx.record("error answers", outcome.errorCount, "count");
    for (const [message, count] of Object.entries(outcome.errors)) ctx.error(message, count);
    const { rows, settledMs } = await waitForAgreement(ctx.stack, 120_000, ctx.signal);
    ctx.record("stores agree after the burst in", round1(settledMs / 1000), "s");
    ctx.record("reservations checked", rows.length, "count");
  },
};

const round1 = (v: number) => Math.round(v * 10) / 10;
