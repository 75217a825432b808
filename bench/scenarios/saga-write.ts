import { errorCodeOf } from "../src/http.ts";
import { runLoad } from "../src/load.ts";
import { RESERVE, reserveAndPay } from "../src/saga.ts";
import type { Scenario } from "../src/scenario.ts";
import { summarize } from "../src/stats.ts";

/**
 * The write path: reserveCar + payReservation sagas through the router at concurrency
 * 1, 16 and 64 (one customer per client, each saga on its own car-hour), then 64 clients
 * reserving the same car for the same hour at once: exactly one must win, the others get CONFLICT.
 */
export const scenario: Scenario = {
  name: "saga-write",
  title: "reserve + pay sagas at concurrency 1/16/64; 64 clients on one car (exactly one wins)",
  budgetMs: 120_000,
  async run(ctx) {
    const { stack } = ctx;
    // Smoke mode only checks the path works: tiny concurrency.
    for (const concurrency of ctx.pick([1, 16, 64], [1, 4, 8])) {
      const reserve: number[] = [];
      const pay: number[] = [];
      const result = await runLoad({
        concurrency,
        durationMs: ctx.pick(15_000, 1_000),
        signal: ctx.signal,
        async task(worker) {
          const outcome = await reserveAndPay(stack, `bench-saga-${concurrency}-${worker}`);
          reserve.push(outcome.reserveMs);
          if (outcome.payMs !== undefined) pay.push(outcome.payMs);
          return outcome.error;
        },
      });
      for (const [message, count] of Object.entries(result.errors)) ctx.error(`concurrency ${concurrency}: ${message}`, count);
      ctx.record(`c${concurrency} sagas/s`, round1(result.throughput), "sagas/s");
      const r = summarize(reserve);
      const p = summarize(pay);
      ctx.record(`c${concurrency} reserveCar p50`, r.p50, "ms");
      ctx.record(`c${concurrency} reserveCar p99`, r.p99, "ms");
      ctx.record(`c${concurrency} payReservation p50`, p.p50, "ms");
      ctx.record(`c${concurrency} payReservation p99`, p.p99, "ms");
      ctx.record(`c${concurrency} errors`, result.errorCount, "count");
    }

    // 64 clients, one car, one hour: the exclusion constraint lets exactly one through.
    const rounds = ctx.pick(5, 1);
    let exactlyOne = 0;
    for (let round = 0; round < rounds; round++) {
      const slot = stack.nextSlot("car-001");
      const replies = await Promise.all(Array.from({ length: 64 }, async (_, i) =>
        stack.router.post(RESERVE, { input: slot }, await stack.auth(`bench-race-${i}`))));
      const codes = replies.map(errorCodeOf);
      const winners = codes.filter((c) => c === undefined).length;
      const others = codes.filter((c) => c !== undefined && c !== "CONFLICT");
      if (winners === 1 && others.length === 0) exactlyOne++;
      else ctx.error(`same-car race: ${winners} winner(s), other answers ${JSON.stringify(others.slice(0, 5))}`);
    }
    ctx.record("same car, 64 clients: rounds with exactly one winner", exactlyOne, `of ${rounds}`);
  },
};

const round1 = (v: number) => Math.round(v * 10) / 10;
