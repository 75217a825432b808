import { SignJWT } from "jose";
import { errorCodes, postGraphQL, type GraphQLResponse } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays, JWT_SECRET, startTestStack, type TestStack } from "./support.ts";

// Small deadlines so a frozen subgraph costs a test 1.5 s per call, not the default 5 s.
const TIMEOUT_MS = 1_500;
const HALF_OPEN_MS = 3_000;
let t: TestStack;
beforeAll(async () => {
  t = await startTestStack({
    LOG_LEVEL: "warn",
    SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS),
    SUBGRAPH_BREAKER_THRESHOLD: "2",
    SUBGRAPH_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
    METRICS_MAX_OPERATION_NAMES: "20",
    RATE_LIMIT_MUTATIONS: "30",
    RATE_LIMIT_REQUESTS: "5000",
  });
}, 120_000);
afterAll(async () => { await t?.close(); });

/** Internal detail that must never reach a client (independent of the router's own redaction rules). */
const LEAK = /https?:\/\/|127\.0\.0\.1|localhost|:\d{4,5}\b|\/(?:work|home|usr|app|tmp)\/|node_modules|\.ts:\d|SQLSTATE|\b\d\d[A-SU-Z]\d\d\b|prisma|ECONNREFUSED|\d{13,19}/i;
const expectNoLeak = (res: unknown) => expect(JSON.stringify(res)).not.toMatch(LEAK);

let slot = 0;
const period = () => { const i = slot++; return { carId: `car-${String(1 + (i % 24)).padStart(3, "0")}`, pickupAt: inDays(40 + 2 * Math.floor(i / 24)), returnAt: inDays(41 + 2 * Math.floor(i / 24)) }; };
async function reserve(customer: string): Promise<string> {
  const res = await t.gql(customer, `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`, { input: period() });
  expect(res.errors).toBeUndefined();
  return res.data!.reserveCar.id;
}
const key = new TextEncoder().encode(JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);
const rawToken = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key);
const asToken = (token: string, query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL(t.stack.routerUrl, query, variables, { authorization: `Bearer ${token}` });
const routerBase = () => t.stack.routerUrl.replace(/\/graphql$/, "");

describe("fault isolation per subgraph", () => {
  it("payment frozen: status and car still arrive, payment is SERVICE_UNAVAILABLE; fast once the breaker is open; the router stays ready", async () => {
    const id = await reserve("alice");
    const READ = `query($id: ID!) { reservation(id: $id) { status car { model } payment { status } } }`;
    // A loaded machine may have delayed the synchronous payment registration: start from a registered payment.
    await eventually(async () => {
      const { reservation } = (await t.gql("alice", READ, { id })).data ?? {};
      return reservation?.status === "RESERVED" && reservation.payment?.status === "REQUESTED";
    }, 30_000);
    const payment = t.stack.service("payment").child;
    payment.kill("SIGSTOP");
    const latencies: number[] = [];
    let last: GraphQLResponse | undefined;
    try {
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        last = await t.gql("alice", READ, { id });
        latencies.push(performance.now() - t0);
        expect(last.status).toBe(200);
        expect(last.data!.reservation).toMatchObject({ status: "RESERVED", car: { model: expect.any(String) }, payment: null });
        expect(last.errors).toEqual([{
          message: expect.stringContaining("payment"),
          path: ["reservation", "payment"],
          extensions: { code: "SERVICE_UNAVAILABLE", service: "payment" },
        }]);
      }
      const ready = await fetch(`${routerBase()}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, subgraphs: { payment: { breaker: "open" }, rental: { breaker: "closed" } } });
    } finally {
      payment.kill("SIGCONT");
    }
    console.log(`frozen payment, reservation(id) latencies (ms): ${latencies.map((l) => l.toFixed(0)).join(", ")}`);
    // The first two calls wait for the deadline (threshold 2); then the open breaker answers at once.
    expect(Math.max(...latencies.slice(0, 2))).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(Math.max(...latencies.slice(2))).toBeLessThan(TIMEOUT_MS / 3);
    // After the half-open delay a trial call succeeds and closes the breaker again.
    await eventually(async () => (await t.gql("alice", READ, { id })).data?.reservation?.payment?.status === "REQUESTED", 20_000);
  });

  it("a stopped subgraph: a generic SERVICE_UNAVAILABLE naming it, without its URL or the connection error", async () => {
    await t.stack.restart("rental", { restart: false });
    try {
      const res = await t.gql(undefined, "{ cars { id model } }");
      expect(errorCodes(res)).toEqual(["SERVICE_UNAVAILABLE"]);
      expect(res.errors![0]!.extensions).toEqual({ code: "SERVICE_UNAVAILABLE", service: "rental" });
      expectNoLeak(res);
    } finally {
      await t.stack.start("rental");
    }
  });
});

describe("one error contract", () => {
  const AVAILABLE = `query($p: DateTime!, $r: DateTime!) { availableCars(pickupAt: $p, returnAt: $r) { id } }`;

  it.each([
    ["a DateTime without a zone", "2030-01-01T10:00:00"],
    ["a word instead of a DateTime", "tomorrow"],
    ["a number instead of a DateTime", 1_700_000_000],
  ])("rejects %s in a variable with BAD_USER_INPUT before planning, never an internal error", async (_, value) => {
    const res = await t.gql(undefined, AVAILABLE, { p: value, r: "2030-01-05T10:00:00Z" });
    expect(res.status).toBe(400);
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors![0]!.message).toMatch(/DateTime/);
    expectNoLeak(res);
  });

  it("rejects a bad DateTime literal with BAD_USER_INPUT", async () => {
    const res = await t.gql(undefined, `{ availableCars(pickupAt: "tomorrow", returnAt: "2030-01-05T10:00:00Z") { id } }`);
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    expectNoLeak(res);
  });

  it("keeps subgraph codes: BAD_USER_INPUT stays BAD_USER_INPUT", async () => {
    const res = await t.gql("alice", `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`,
      { input: { carId: "car-001", pickupAt: inDays(5), returnAt: inDays(4) } });
    expect(errorCodes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors![0]!.extensions).not.toHaveProperty("serviceName");
  });

  it("never echoes a full card number", async () => {
    const id = await reserve("alice");
    const literal = await t.gql("alice", `mutation { payReservation(input: { reservationId: "${id}", cardNumber: 4000056655665556 }) { status } }`);
    expect(errorCodes(literal)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    const variable = await t.gql("alice", `mutation($i: PayReservationInput!) { payReservation(input: $i) { status } }`, { i: { reservationId: id, cardNumber: 4000056655665556 } });
    expect(errorCodes(variable)).toEqual(["BAD_USER_INPUT"]);
    const luhn = await t.gql("alice", `mutation($i: PayReservationInput!) { payReservation(input: $i) { status } }`, { i: { reservationId: id, cardNumber: "4000 0566 5566 5557" } });
    expect(errorCodes(luhn)).toEqual(["BAD_USER_INPUT"]);
    for (const res of [literal, variable, luhn]) {
      expect(JSON.stringify(res)).not.toMatch(/4000056655665556|4000 0566 5566 555/);
      expectNoLeak(res);
    }
  });

  it("answers a subscription sent over HTTP with a 400 saying where subscriptions are served", async () => {
    const res = await t.gql("alice", "subscription { myReservationChanged { reservationId } }");
    expect(res.status).toBe(400);
    expect(errorCodes(res)).toEqual(["BAD_REQUEST"]);
    expect(res.errors![0]!.message).toMatch(/WebSocket/);
  });

  it("replaces a malformed x-request-id and echoes a well-formed one", async () => {
    const post = (requestId: string) => fetch(t.stack.routerUrl, {
      method: "POST", headers: { "content-type": "application/json", "x-request-id": requestId }, body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect((await post("client-req-000001")).headers.get("x-request-id")).toBe("client-req-000001");
    expect((await post("forged\"}{\"level\":60")).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("strict customer tokens", () => {
  it.each([
    ["no exp", () => rawToken({ sub: "alice", iat: now() })],
    ["an iat ten years ahead", () => rawToken({ sub: "alice", iat: now() + 315_360_000, exp: now() + 315_360_060 })],
    ["a lifetime of 30 days", () => rawToken({ sub: "alice", iat: now(), exp: now() + 30 * 86_400 })],
    ["a numeric sub", () => rawToken({ sub: 42, iat: now(), exp: now() + 600 })],
    ["a sub with a NUL byte", () => rawToken({ sub: "alice\u0000", iat: now(), exp: now() + 600 })],
    ["a sub of 10,000 characters", () => rawToken({ sub: "a".repeat(10_000), iat: now(), exp: now() + 600 })],
  ])("refuses a token with %s: 401 UNAUTHENTICATED, nothing internal", async (_, make) => {
    const res = await asToken(await make(), "{ myReservations { reservationId } }");
    expect(res.status).toBe(401);
    expect(errorCodes(res)).toEqual(["UNAUTHENTICATED"]);
    expectNoLeak(res);
  });
});

describe("metrics hygiene", () => {
  it("folds operation names beyond the bounded set into one label, so clients cannot grow /metrics", async () => {
    const size = async () => (await (await fetch(`${routerBase()}/metrics`)).text()).length;
    for (let i = 0; i < 25; i++) await t.gql(undefined, `query Warmup${i} { __typename }`);
    const before = await size();
    for (let i = 0; i < 100; i++) await t.gql(undefined, `query Flood${i} { __typename }`);
    const text = await (await fetch(`${routerBase()}/metrics`)).text();
    expect(text).not.toMatch(/Flood\d/);
    expect(text).toMatch(/operation="other"/);
    expect(await size()).toBeLessThan(before * 1.05);
  });
});

describe("abuse limits", () => {
  it("refuses a 1,000-alias request before execution while a concurrent simple query is served as usual", async () => {
    const simple = async () => { const t0 = performance.now(); const res = await t.gql("bob", "{ cars { id } }"); return { ms: performance.now() - t0, res }; };
    const baseline = [];
    for (let i = 0; i < 5; i++) baseline.push((await simple()).ms);
    const aliases = Array.from({ length: 1_000 }, (_, i) => `a${i}: availableCars(pickupAt: "${inDays(3)}", returnAt: "${inDays(4)}") { id }`).join(" ");
    const t0 = performance.now();
    const [flood, during] = await Promise.all([
      t.gql(undefined, `{ ${aliases} }`).then((res) => ({ res, ms: performance.now() - t0 })),
      simple(),
    ]);
    console.log(`1,000 aliases refused in ${flood.ms.toFixed(0)} ms; concurrent simple query ${during.ms.toFixed(0)} ms (alone: median ${baseline.sort((a, b) => a - b)[2]!.toFixed(0)} ms)`);
    expect(flood.res.status).toBe(400);
    expect(errorCodes(flood.res)).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(flood.ms).toBeLessThan(1_000);
    expect(during.res.errors).toBeUndefined();
    expect(during.res.data!.cars.length).toBeGreaterThan(0);
  });

  it("a burst of 1,000 mutations from one customer gets 429s (RATE_LIMITED, Retry-After) while another customer's requests succeed", async () => {
    const token = await rawToken({ sub: "mallory", iat: now(), exp: now() + 600 });
    const mutation = JSON.stringify({ query: `mutation { cancelReservation(reservationId: "00000000-0000-4000-8000-000000000000") { id } }` });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    let limitedBody: unknown;
    let next = 0;
    const worker = async () => {
      while (next < 1_000) {
        next++;
        const res = await fetch(t.stack.routerUrl, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: mutation });
        statuses.push(res.status);
        const body = await res.json();
        if (res.status === 429) { retryAfter = res.headers.get("retry-after"); limitedBody = body; }
      }
    };
    const bob = (async () => {
      const id = await reserve("bob");
      return t.gql("bob", `query($id: ID!) { reservation(id: $id) { id status } }`, { id });
    })();
    const [, bobRead] = await Promise.all([Promise.all(Array.from({ length: 25 }, worker)), bob]);
    const limited = statuses.filter((s) => s === 429).length;
    console.log(`1,000-mutation burst: ${limited} answered 429, ${statuses.length - limited} served`);
    expect(statuses).toHaveLength(1_000);
    expect(limited).toBeGreaterThanOrEqual(1_000 - 30);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(limitedBody).toMatchObject({ errors: [{ extensions: { code: "RATE_LIMITED" } }] });
    expect(bobRead.errors).toBeUndefined();
    expect(bobRead.data!.reservation.status).toBe("RESERVED");
  });
});
