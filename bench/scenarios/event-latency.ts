import { startOpenLoop } from "../src/load.ts";
import { subscribeChanges } from "../src/live.ts";
import { reserveAndPay } from "../src/saga.ts";
import type { Scenario, ScenarioContext } from "../src/scenario.ts";
import { summarize } from "../src/stats.ts";

/** Background mutations per second in the "under load" half (reserve + pay sagas = 2 mutations each). */
const BACKGROUND_MUTATIONS_PER_S = 40;
const MESSAGE_TIMEOUT_MS = 15_000;

/**
 * Event → subscriber latency: a customer subscribed through the router pays a
 * reservation; the time from the payReservation response to the PAID change arriving
 * over graphql-ws (payment outbox → BullMQ → reservation read model → Redis → router).
 * Measured idle, then under a fixed background rate of sagas by other customers.
 */
export const scenario: Scenario = {
  name: "event-latency",
  title: `payment → subscription message latency, idle and under ${BACKGROUND_MUTATIONS_PER_S} background mutations/s`,
  budgetMs: 120_000,
  async run(ctx) {
    const { stack } = ctx;
    const subscriber = await subscribeChanges(stack, "bench-live", ctx.cleanup);
    const samples = ctx.pick(30, 3);
    await measure(ctx, subscriber, samples, "idle");
    const rate = ctx.pick(BACKGROUND_MUTATIONS_PER_S, 4);
    const background = startOpenLoop({
      ratePerS: rate / 2,
      maxInFlight: 200,
      task: async (i) => (await reserveAndPay(stack, `bench-bg-${i % 50}`)).error,
    });
    ctx.cleanup.add("stop the background load", () => background.stop());
    let loaded: Error | undefined;
    try {
      await measure(ctx, subscriber, samples, "loaded");
    } catch (error) {
      loaded = error as Error;
    }
    const bg = await background.stop();
    ctx.record("background mutations/s achieved", Math.round(bg.ratePerS * 2 * 10) / 10, "mutations/s");
    ctx.record("background sagas skipped (in-flight cap)", bg.skipped, "count");
    for (const [message, count] of Object.entries(bg.errors)) ctx.error(`background: ${message}`, count);
    if (loaded) throw loaded;
    await subscriber.close();
  },
};

async function measure(ctx: ScenarioContext, subscriber: Awaited<ReturnType<typeof subscribeChanges>>, samples: number, label: string) {
  const delays: number[] = [];
  for (let i = 0; i < samples && !ctx.signal.aborted; i++) {
    const outcome = await reserveAndPay(ctx.stack, "bench-live");
    if (outcome.error || !outcome.reservationId) {
      ctx.error(`${label}: ${outcome.error}`);
      continue;
    }
    const paidAt = performance.now();
    try {
      const change = await subscriber.waitFor(outcome.reservationId, (c) => c.status === "PAID" || c.paymentStatus === "PAID", MESSAGE_TIMEOUT_MS, `${label} PAID`);
      delays.push(Math.max(0, change.at - paidAt));
    } catch (error) {
      ctx.error((error as Error).message);
    }
  }
  const s = summarize(delays);
  ctx.record(`${label} PAID message p50`, s.p50, "ms");
  ctx.record(`${label} PAID message p99`, s.p99, "ms");
}
