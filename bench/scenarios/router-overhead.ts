import { compareInterleaved } from "../src/compare.ts";
import { errorCodeOf } from "../src/http.ts";
import type { Scenario } from "../src/scenario.ts";

const CARS = "{ cars { id model dailyRate } }";

/**
 * `cars` straight to the rental subgraph (with an internal token, as the router sends)
 * versus through the router, interleaved at 10 connections: the router's cost per request.
 */
export const scenario: Scenario = {
  name: "router-overhead",
  title: "cars direct to rental vs through the router (10 connections, interleaved)",
  budgetMs: 60_000,
  async run(ctx) {
    const { stack } = ctx;
    const rental = stack.client(stack.subgraphUrls.rental);
    // One token for the whole run: the baseline is the subgraph's own cost.
    const internal = await stack.internalAuth();
    const figures = await compareInterleaved(ctx, "cars", {
      rounds: 3,
      durationMs: ctx.pick(8_000, 500),
      concurrency: 10,
    }, {
      direct: async () => errorCodeOf(await rental.post(CARS, {}, internal)),
      router: async () => errorCodeOf(await stack.router.post(CARS)),
    });
    ctx.record("cars router/direct throughput", round2(figures.router!.throughput / figures.direct!.throughput), "ratio");
    ctx.record("cars router/direct p50", round2(figures.router!.p50 / figures.direct!.p50), "ratio");
  },
};

const round2 = (v: number) => Math.round(v * 100) / 100;
