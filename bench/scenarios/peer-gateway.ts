import { isDeepStrictEqual } from "node:util";
import { compareInterleaved } from "../src/compare.ts";
import { paidReservations } from "../src/fixtures.ts";
import { errorCodeOf, type GraphQLHttpClient } from "../src/http.ts";
import { rssMb } from "../src/machine.ts";
import { scrape } from "../src/prometheus.ts";
import { startHiveGateway } from "../src/peer-gateway.ts";
import type { Scenario } from "../src/scenario.ts";
import { cpuPerRequest, recordFetchSharing } from "./router-overhead.ts";

const CUSTOMER = "bench-peer";
const QUERIES = {
  cars: { query: "{ cars { id model dailyRate } }", customer: false },
  "reservation(id)": {
    query: "query Reservation($id: ID!) { reservation(id: $id) { id status amount pickupAt car { model plateNumber } payment { status amount } rental { status } } }",
    customer: true,
  },
  "myReservations(50)": {
    query: "{ myReservations(first: 50) { reservationId status version reservation { id amount car { model } payment { status } rental { status } } } }",
    customer: true,
  },
} as const;

/**
 * Our router against Hive Gateway (`@graphql-hive/gateway`, default settings) serving the
 * same committed supergraph against the same subgraph processes, interleaved round by
 * round at 10 connections: `cars`, a three-subgraph `reservation(id)` and
 * `myReservations(first: 50)` with nested fields. Both must return identical data.
 */
export const scenario: Scenario = {
  name: "peer-gateway",
  title: "our router vs Hive Gateway on cars, reservation(id), myReservations(first: 50) nested (10 connections, interleaved)",
  budgetMs: 200_000,
  async run(ctx) {
    const { stack } = ctx;
    const ids = await paidReservations(stack, CUSTOMER, ctx.pick(50, 5), ctx.signal);
    const hive = await startHiveGateway(stack, ctx.cleanup);
    const unmeasure = stack.addProcess({ name: "hive-gateway", pid: hive.pid });
    ctx.cleanup.add("stop measuring the peer gateway", async () => unmeasure());
    ctx.record("RSS idle hive-gateway", rssMb(hive.pid) ?? Number.NaN, "MB");
    const gateways: Record<"ours" | "hive", GraphQLHttpClient> = { ours: stack.router, hive: stack.client(hive.url) };
    const auth = await stack.auth(CUSTOMER);
    for (const [label, { query, customer }] of Object.entries(QUERIES)) {
      const variables = label === "reservation(id)" ? { id: ids[0] } : {};
      const headers = customer ? auth : {};
      const [ours, peer] = await Promise.all([gateways.ours.post(query, variables, headers), gateways.hive.post(query, variables, headers)]);
      if (errorCodeOf(ours) || errorCodeOf(peer) || !isDeepStrictEqual(ours.data, peer.data)) {
        ctx.error(`${label}: the gateways answer differently: ours ${JSON.stringify(ours).slice(0, 300)} / hive ${JSON.stringify(peer).slice(0, 300)}`);
        continue;
      }
      const cpu = { ours: cpuPerRequest(stack.processes().find((p) => p.name === "router")?.pid), hive: cpuPerRequest(hive.pid) };
      const request = (client: GraphQLHttpClient, counter: { count(): void }) => async (_worker: number, i: number) => {
        counter.count();
        return errorCodeOf(await client.post(query, label === "reservation(id)" ? { id: ids[i % ids.length] } : {}, headers));
      };
      const before = await scrape(stack.baseUrl("router"));
      const figures = await compareInterleaved(ctx, label, { rounds: ctx.pick(3, 1), durationMs: ctx.pick(6_000, 400), concurrency: 10 }, {
        ours: request(gateways.ours, cpu.ours),
        hive: request(gateways.hive, cpu.hive),
      });
      // Load-robust: each gateway's own CPU per request it served (each is idle during the other's rounds).
      cpu.ours.record(ctx, `${label} ours CPU per request`);
      cpu.hive.record(ctx, `${label} hive CPU per request`);
      ctx.record(`${label} ours/hive throughput`, Math.round((figures.ours!.throughput / figures.hive!.throughput) * 100) / 100, "ratio");
      recordFetchSharing(ctx, label, before, await scrape(stack.baseUrl("router")));
    }
    for (const p of stack.processes()) if (p.name === "router" || p.name === "hive-gateway") ctx.record(`RSS after ${p.name}`, rssMb(p.pid) ?? Number.NaN, "MB");
  },
};
