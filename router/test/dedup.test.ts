import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, INTERNAL_TOKEN_HEADER, verifyInternalToken } from "@rentcar/platform";
import { parse } from "graphql";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { SubgraphDataSource, subgraphCircuitGauge, subgraphFetchCounters } from "../src/subgraph-data-source.ts";

const log = createLogger("router-dedup-test", "silent");
const INTERNAL_SECRET = "router-dedup-test-internal-secret-0123456789";
const QUERY = "query Cars__rental__0 { cars { id model } }";

/** A subgraph that records each request and answers only when told to (so fetches stay in flight). */
async function heldSubgraph() {
  const held: { body: string; customerId: string | undefined; res: http.ServerResponse }[] = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const caller = await verifyInternalToken(INTERNAL_SECRET, req.headers[INTERNAL_TOKEN_HEADER] as string);
    held.push({ body, customerId: caller?.customerId, res });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    held,
    /** Answers every held request with `status` and `body`. */
    release(status = 200, body: unknown = { data: { cars: [{ id: "car-001", model: "Zoe" }] } }) {
      for (const h of held.splice(0)) h.res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    },
    close: () => { server.closeAllConnections(); server.close(); },
  };
}

/** Resolves once `n` requests reached the subgraph. */
async function reached(subgraph: { held: unknown[] }, n: number): Promise<void> {
  while (subgraph.held.length < n) await new Promise((resolve) => setTimeout(resolve, 5));
}

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(deduplicate = true) {
  const subgraph = await heldSubgraph();
  const registry = new Registry();
  const counters = subgraphFetchCounters(registry);
  const source = new SubgraphDataSource({
    name: "rental", url: subgraph.url, timeoutMs: 5_000, breakerThreshold: 5, halfOpenAfterMs: 5_000, maxSockets: 16,
    internalSecret: INTERNAL_SECRET, log, circuitGauge: subgraphCircuitGauge(registry), deduplicate, fetchCounters: counters,
  });
  cleanups.push(() => subgraph.close(), () => source.close());
  const fetch = (options: { customerId?: string; startedAt?: number; operation?: "query" | "mutation"; query?: string; variables?: Record<string, unknown> } = {}) => {
    const query = options.query ?? QUERY;
    return source.process({
      kind: "incoming operation" as never,
      request: { query, variables: options.variables ?? {} },
      context: { requestId: "test-request-0001", log, startedAt: options.startedAt ?? 0, ...(options.customerId ? { customerId: options.customerId } : {}) },
      incomingRequestContext: { request: {}, operation: { operation: options.operation ?? "query" } } as never,
      document: parse(query),
    });
  };
  const count = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);
  return { subgraph, fetch, sent: () => count("subgraph_fetches_total"), shared: () => count("subgraph_fetches_deduplicated_total") };
}

describe("in-flight deduplication of subgraph fetches", () => {
  it("sends identical query fetches once and gives every waiter its own copy of the answer", async () => {
    const { subgraph, fetch, sent, shared } = await setup();
    const answers = Promise.all(Array.from({ length: 5 }, () => fetch({ customerId: "alice" })));
    await reached(subgraph, 1);
    subgraph.release();
    const responses = await answers;
    expect(subgraph.held).toHaveLength(0);
    expect(await sent()).toBe(1);
    expect(await shared()).toBe(4);
    for (const r of responses) expect(r).toEqual({ data: { cars: [{ id: "car-001", model: "Zoe" }] } });
    // The gateway merges into what it gets: one waiter's changes never show in another's.
    (responses[0]!.data!.cars as { model: string }[])[0]!.model = "changed";
    expect((responses[1]!.data!.cars as { model: string }[])[0]!.model).toBe("Zoe");
    expect(new Set(responses.map((r) => r.data)).size).toBe(5);
  });

  it("never shares between customers, mutations, different variables, or when turned off", async () => {
    const { subgraph, fetch, sent, shared } = await setup();
    const answers = Promise.all([
      fetch({ customerId: "alice" }), fetch({ customerId: "bob" }), fetch(),
      fetch({ customerId: "alice", operation: "mutation" }), fetch({ customerId: "alice", operation: "mutation" }),
      fetch({ customerId: "alice", query: "mutation M__rental__0 { returnCar(id: \"x\") { id } }" }),
      fetch({ customerId: "alice", query: "mutation M__rental__0 { returnCar(id: \"x\") { id } }" }),
      fetch({ customerId: "alice", variables: { first: 1 } }), fetch({ customerId: "alice", variables: { first: 2 } }),
    ]);
    await reached(subgraph, 9);
    expect(subgraph.held.map((h) => h.customerId).slice().sort()).toEqual(["alice", "alice", "alice", "alice", "alice", "alice", "alice", "bob", undefined].sort());
    subgraph.release();
    await answers;
    expect(await sent()).toBe(9);
    expect(await shared()).toBe(0);

    const off = await setup(false);
    const offAnswers = Promise.all([off.fetch({ customerId: "alice" }), off.fetch({ customerId: "alice" })]);
    await reached(off.subgraph, 2);
    off.subgraph.release();
    await offAnswers;
    expect(await off.shared()).toBe(0);
  });

  it("does not let a request join a fetch sent before it started (read-your-writes)", async () => {
    const { subgraph, fetch, sent } = await setup();
    const first = fetch({ customerId: "alice", startedAt: 0 });
    await reached(subgraph, 1);
    const later = fetch({ customerId: "alice", startedAt: performance.now() });
    await reached(subgraph, 2);
    subgraph.release();
    await Promise.all([first, later]);
    expect(await sent()).toBe(2);
  });

  it("gives every waiter the failure: SERVICE_UNAVAILABLE for a 500, the subgraph's errors for a GraphQL error", async () => {
    const { subgraph, fetch } = await setup();
    const failing = Promise.all(Array.from({ length: 3 }, () => fetch({ customerId: "alice" })));
    await reached(subgraph, 1);
    subgraph.release(500, { message: "boom" });
    for (const r of await failing) {
      expect(r.errors).toEqual([{ message: "rental is temporarily unavailable; try again later", path: ["cars"], extensions: { code: "SERVICE_UNAVAILABLE", service: "rental" } }]);
    }
    const refused = Promise.all(Array.from({ length: 3 }, () => fetch({ customerId: "alice" })));
    await reached(subgraph, 1);
    subgraph.release(200, { data: null, errors: [{ message: "no such car", extensions: { code: "NOT_FOUND" } }] });
    const answers = await refused;
    for (const r of answers) expect(r).toEqual({ data: null, errors: [{ message: "no such car", extensions: { code: "NOT_FOUND" } }] });
    expect(new Set(answers.map((r) => r.errors)).size).toBe(3);
  });
});
