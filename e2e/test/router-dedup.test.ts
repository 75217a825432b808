import type { GraphQLResponse } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays, startTestStack, type TestStack } from "./support.ts";

/**
 * The router's in-flight deduplication (SUBGRAPH_DEDUP, default on) against the real
 * processes: the subgraph is paused (SIGSTOP) so every fetch stays in flight until all
 * requests reached the router's data source, then resumed. Counts come from the
 * subgraph's own graphql_operations_total and the router's subgraph fetch counters.
 */
let t: TestStack;
beforeAll(async () => {
  // A generous deadline: the subgraph is paused while the requests arrive on a possibly busy machine.
  t = await startTestStack({ LOG_LEVEL: "warn", SUBGRAPH_TIMEOUT_MS: "60000" });
}, 120_000);
afterAll(async () => { await t?.close(); });

/** Sum of the samples of `metric` at `<base>/metrics` whose labels include `labels`. */
async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] === name && Object.entries(labels).every(([k, v]) => (match[2] ?? "").includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}
const routerBase = () => t.stack.routerUrl.replace(/\/graphql$/, "");
const subgraphBase = (name: "reservation" | "rental") => t.stack.subgraphUrls[name].replace(/\/graphql$/, "");
/** Fetches of `subgraph` that reached the router's data source so far (sent or joined). */
const fetchesReached = async (subgraph: string) =>
  (await metric(routerBase(), "subgraph_fetches_total", { subgraph })) + (await metric(routerBase(), "subgraph_fetches_deduplicated_total", { subgraph }));

/** Runs `requests` with `subgraph` paused until all of them reached the router's data source for it. */
async function whilePaused(subgraph: "reservation" | "rental", requests: (() => Promise<GraphQLResponse>)[]): Promise<GraphQLResponse[]> {
  const before = await fetchesReached(subgraph);
  const child = t.stack.service(subgraph).child;
  child.kill("SIGSTOP");
  try {
    const answers = Promise.all(requests.map((r) => r()));
    await eventually(async () => (await fetchesReached(subgraph)) - before >= requests.length, 60_000);
    child.kill("SIGCONT");
    return await answers;
  } finally {
    child.kill("SIGCONT");
  }
}

describe("router in-flight deduplication (real stack)", () => {
  it("answers 20 concurrent identical queries with fewer subgraph operations, each with the full answer", async () => {
    const QUERY = "query DedupCars { cars { id model dailyRate } }";
    const ops = () => metric(subgraphBase("rental"), "graphql_operations_total", { operation: "DedupCars__rental__0" });
    const before = await ops();
    const answers = await whilePaused("rental", Array.from({ length: 20 }, () => () => t.gql(undefined, QUERY)));
    for (const a of answers) {
      expect(a.errors).toBeUndefined();
      expect(a.data!.cars).toHaveLength(24);
    }
    const operations = (await ops()) - before;
    expect(operations).toBeGreaterThanOrEqual(1);
    expect(operations).toBeLessThan(20);
    expect(await metric(routerBase(), "subgraph_fetches_deduplicated_total", { subgraph: "rental" })).toBeGreaterThanOrEqual(20 - operations);
  });

  it("never shares an answer between two customers asking the same thing", async () => {
    const reserved = await t.gql("dedup-alice", `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`, {
      input: { carId: "car-007", pickupAt: inDays(70), returnAt: inDays(71) },
    });
    expect(reserved.errors).toBeUndefined();
    const id = reserved.data!.reserveCar.id as string;
    const QUERY = "query DedupMine($id: ID!) { reservation(id: $id) { id } }";
    const ops = () => metric(subgraphBase("reservation"), "graphql_operations_total", { operation: "DedupMine__reservation__0" });
    const before = await ops();
    const requests = Array.from({ length: 20 }, (_, i) => () => t.gql(i % 2 ? "dedup-bob" : "dedup-alice", QUERY, { id }));
    const answers = await whilePaused("reservation", requests);
    answers.forEach((a, i) => {
      if (i % 2) {
        // Bob: not his reservation, refused by the subgraph for him.
        expect(a.data?.reservation ?? null).toBeNull();
        expect(a.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND"]);
      } else {
        expect(a.errors).toBeUndefined();
        expect(a.data!.reservation).toEqual({ id });
      }
    });
    expect((await ops()) - before).toBeGreaterThanOrEqual(2);
  });

  it("never shares mutations: 5 identical concurrent reserveCar calls are 5 subgraph operations", async () => {
    const MUTATION = `mutation DedupReserve($input: ReserveCarInput!) { reserveCar(input: $input) { id car { model } } }`;
    const input = { carId: "car-008", pickupAt: inDays(72), returnAt: inDays(73) };
    const ops = () => metric(subgraphBase("reservation"), "graphql_operations_total", { operation: "DedupReserve__reservation__0" });
    const shared = () => metric(routerBase(), "subgraph_fetches_deduplicated_total");
    const [opsBefore, sharedBefore] = [await ops(), await shared()];
    const answers = await whilePaused("reservation", Array.from({ length: 5 }, () => () => t.gql("dedup-carol", MUTATION, { input })));
    // Exactly one wins the car for that period; the others are refused by the subgraph itself.
    expect(answers.filter((a) => a.data?.reserveCar?.id)).toHaveLength(1);
    expect((await ops()) - opsBefore).toBe(5);
    expect((await shared()) - sharedBefore).toBe(0);
  });
});
