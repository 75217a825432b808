import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { ConfigError, createLogger, parseEnv, signCustomerToken, type HttpService } from "@rentcar/platform";
import { errorCodes, postGraphQL } from "@rentcar/testkit";
import { parse } from "graphql";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRouter } from "../src/app.ts";
import { routerEnvSchema } from "../src/env.ts";
import { SubgraphDataSource, subgraphCircuitGauge } from "../src/subgraph-data-source.ts";

const log = createLogger("router-test", "silent");
const JWT_SECRET = "router-edge-test-jwt-secret-0123456789abcdef";
const INTERNAL_SECRET = "router-edge-test-internal-secret-0123456789";
const LEAK = /https?:\/\/|127\.0\.0\.1|localhost|:\d{4,5}\b|ECONNREFUSED|\/(?:work|home|usr|app|tmp)\//i;

/** A "subgraph" that accepts connections and never answers, like a SIGSTOPped process. */
async function stalledServer(): Promise<{ url: string; close(): void }> {
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer(() => { /* never answers */ });
  server.on("connection", (s) => sockets.add(s));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

/** A port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

describe("subgraph data source: deadline and circuit breaker", () => {
  it("answers SERVICE_UNAVAILABLE at the deadline, then at once while the breaker is open, with entity paths", async () => {
    const stalled = await stalledServer();
    const source = new SubgraphDataSource({
      name: "payment", url: stalled.url, timeoutMs: 300, breakerThreshold: 2, halfOpenAfterMs: 60_000, maxSockets: 4,
      internalSecret: INTERNAL_SECRET, log, circuitGauge: subgraphCircuitGauge(new Registry()),
    });
    const query = "query($representations:[_Any!]!){_entities(representations:$representations){...on Reservation{payment{status}}}}";
    const call = () => source.process({
      kind: "incoming operation" as never,
      request: { query, variables: { representations: [{ __typename: "Reservation", id: "a" }, { __typename: "Reservation", id: "b" }] } },
      context: { requestId: "test-request-0001", log },
      incomingRequestContext: { request: {} } as never,
      document: parse(query),
    });
    try {
      const elapsed: number[] = [];
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const response = await call();
        elapsed.push(performance.now() - t0);
        expect(response.errors).toEqual([0, 1].map((i) => ({
          message: "payment is temporarily unavailable; try again later",
          path: ["_entities", i, "payment"],
          extensions: { code: "SERVICE_UNAVAILABLE", service: "payment" },
        })));
      }
      expect(source.state).toBe("open");
      expect(Math.min(...elapsed.slice(0, 2))).toBeGreaterThanOrEqual(290);
      expect(Math.max(...elapsed.slice(2))).toBeLessThan(150);
    } finally {
      stalled.close();
      await source.close();
    }
  });
});

/** A rental data source to `url` with one socket and a breaker that stays closed, and one `{ cars { id } }` fetch through it. */
function rentalSource(url: string, timeoutMs: number) {
  const source = new SubgraphDataSource({
    name: "rental", url, timeoutMs, breakerThreshold: 10, halfOpenAfterMs: 60_000, maxSockets: 1,
    internalSecret: INTERNAL_SECRET, log, circuitGauge: subgraphCircuitGauge(new Registry()),
  });
  const fetchCars = () => source.process({
    kind: "incoming operation" as never,
    request: { query: "{ cars { id } }" },
    context: { requestId: "test-request-0002", log },
    incomingRequestContext: { request: {} } as never,
  });
  return { source, fetchCars };
}
const UNAVAILABLE_CARS = [expect.objectContaining({ path: ["cars"], extensions: { code: "SERVICE_UNAVAILABLE", service: "rental" } })];

describe("subgraph data source: a call waiting for a pooled socket", () => {
  it("fails at its own deadline, not once a socket frees up", async () => {
    const stalled = await stalledServer();
    // One socket: the second call waits in the pool behind the first, which never gets an answer.
    const { source, fetchCars } = rentalSource(stalled.url, 400);
    try {
      const t0 = performance.now();
      const answered = await Promise.all([fetchCars(), fetchCars()].map((p) => p.then((response) => ({ response, ms: performance.now() - t0 }))));
      for (const { response } of answered) expect(response.errors).toEqual(UNAVAILABLE_CARS);
      // Both at about one deadline; the queued one would otherwise need a second one (800 ms).
      expect(Math.max(...answered.map((a) => a.ms))).toBeLessThan(700);
    } finally {
      stalled.close();
      await source.close();
    }
  });
});

describe("subgraph data source: an answer that stops mid-body", () => {
  it("fails at the deadline with SERVICE_UNAVAILABLE", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":{"cars":['); // and never the rest
    });
    server.on("connection", (s) => sockets.add(s));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { source, fetchCars } = rentalSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, 300);
    try {
      const t0 = performance.now();
      const response = await fetchCars();
      expect(response.errors).toEqual(UNAVAILABLE_CARS);
      // The deadline, not undici's bodyTimeout backstop (deadline + 1 s).
      expect(performance.now() - t0).toBeLessThan(1_000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      await source.close();
    }
  });
});

describe("router edge in production mode (in-process router, subgraphs down)", () => {
  let router: HttpService;
  let url: string;
  const env = async (overrides: Record<string, string> = {}) => parseEnv(routerEnvSchema, {
    NODE_ENV: "production", PORT: "0", LOG_LEVEL: "silent", JWT_SECRET, INTERNAL_SECRET,
    QUEUE_PREFIX: `rentcar-router-test-${randomBytes(4).toString("hex")}`,
    RESERVATION_URL: await closedPortUrl(), PAYMENT_URL: await closedPortUrl(), RENTAL_URL: await closedPortUrl(),
    RATE_LIMIT_REQUESTS: "40", RATE_LIMIT_MUTATIONS: "5", RATE_LIMIT_WINDOW_SECONDS: "60",
    ...overrides,
  });
  beforeAll(async () => {
    router = await startRouter(await env());
    url = `${router.url}/graphql`;
  });
  afterAll(async () => { await router?.shutdown("test done"); });
  const as = async (customer: string) => ({ authorization: `Bearer ${await signCustomerToken(JWT_SECRET, customer)}` });

  it("refuses to start with a default or short secret in production", async () => {
    await expect(env({ JWT_SECRET: "local-dev-jwt-secret-change-me" })).rejects.toThrow(ConfigError);
    await expect(env({ INTERNAL_SECRET: "sixteen-characters!" })).rejects.toThrow(/at least 32/);
  });

  it("answers a subgraph that is down with SERVICE_UNAVAILABLE naming it, nothing about where it lives", async () => {
    const res = await postGraphQL(url, "{ cars { id } }", {}, await as("cust-unavailable"));
    expect(res.status).toBe(200);
    expect(res.errors).toEqual([{ message: expect.any(String), path: ["cars"], extensions: { code: "SERVICE_UNAVAILABLE", service: "rental" } }]);
    expect(JSON.stringify(res)).not.toMatch(LEAK);
  });

  it("plans a document once: the same document again is a query plan cache hit", async () => {
    const count = async (result: "hit" | "miss") => {
      const text = await (await fetch(`${router.url}/metrics`)).text();
      return Number(new RegExp(`^query_plan_cache_requests_total\\{result="${result}"[^}]*\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
    };
    const [hits, misses] = [await count("hit"), await count("miss")];
    const headers = await as("cust-plan");
    await postGraphQL(url, "query PlanOnce { cars { id model } }", {}, headers);
    await postGraphQL(url, "query PlanOnce { cars { id model } }", {}, headers);
    expect((await count("miss")) - misses).toBe(1);
    expect((await count("hit")) - hits).toBe(1);
  });

  it("turns introspection and field suggestions off in production", async () => {
    const introspection = await postGraphQL(url, "{ __schema { types { name } } }", {}, await as("cust-introspect"));
    expect(errorCodes(introspection)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    const typo = await postGraphQL(url, "{ carz { id } }", {}, await as("cust-introspect"));
    expect(errorCodes(typo)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(typo.errors![0]!.message).not.toMatch(/Did you mean/);
  });

  it("refuses a 1,000-alias document before execution, while a concurrent simple request is served", async () => {
    const aliases = Array.from({ length: 1_000 }, (_, i) => `a${i}: availableCars(pickupAt: "2030-01-01T10:00:00Z", returnAt: "2030-01-02T10:00:00Z") { id }`).join(" ");
    const headers = await as("cust-alias");
    const t0 = performance.now();
    const [flood, simple] = await Promise.all([postGraphQL(url, `{ ${aliases} }`, {}, headers), postGraphQL(url, "{ __typename }", {}, await as("cust-simple"))]);
    const elapsed = performance.now() - t0;
    console.log(`1,000-alias document refused in ${elapsed.toFixed(0)} ms`);
    expect(flood.status).toBe(400);
    expect(flood.errors![0]!.message).toMatch(/[Tt]oken limit/);
    expect(simple.data).toEqual({ __typename: "Query" });
    const fewAliases = Array.from({ length: 16 }, (_, i) => `a${i}: cars { id }`).join(" ");
    expect((await postGraphQL(url, `{ ${fewAliases} }`, {}, headers)).errors![0]!.message).toMatch(/[Aa]liases limit/);
    const deep = "{ cars { id " + "reservation { ".repeat(9) + "id" + " }".repeat(9) + " } }";
    const refusedDeep = await postGraphQL(url, deep, {}, headers);
    expect(refusedDeep.errors!.some((e) => /[Dd]epth limit/.test(e.message))).toBe(true);
  });

  it("rate-limits mutations per customer with 429, RATE_LIMITED and Retry-After; another customer is unaffected", async () => {
    const mallory = await as("cust-mallory");
    const mutation = `mutation { cancelReservation(reservationId: "00000000-0000-4000-8000-000000000000") { id } }`;
    const raw = (headers: Record<string, string>) => fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query: mutation }) });
    const burst = await Promise.all(Array.from({ length: 20 }, () => raw(mallory)));
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBe(15);
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited[0]!.json()).toMatchObject({ errors: [{ extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) } }] });
    const other = await raw(await as("cust-other"));
    expect(other.status).not.toBe(429);
  });

  it("rate-limits requests per client address when anonymous (and counts refused tokens there too)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await postGraphQL(url, "{ __typename }")).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect((await postGraphQL(url, "{ __typename }", {}, await as("cust-still-fine"))).status).toBe(200);
  });
});
