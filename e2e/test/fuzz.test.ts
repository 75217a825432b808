import fc from "fast-check";
import { SignJWT } from "jose";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inDays, JWT_SECRET, startTestStack, type TestStack } from "./support.ts";

/**
 * Fuzz test of the router edge (issue 9): random and malformed documents, arguments,
 * variables, bodies and headers through a real stack (router + 3 subgraphs as processes,
 * PostgreSQL, Redis), part of the run with payment stopped. Every answer must be < 500,
 * carry no INTERNAL_SERVER_ERROR and no internal detail, and no rejected input may leave a
 * row behind. Runs 2,500 requests, 10 at a time.
 */

let t: TestStack;
beforeAll(async () => { t = await startTestStack({ LOG_LEVEL: "error" }); }, 120_000);
afterAll(async () => { await t?.close(); });

// Independent of the router's own redaction rules: what must never appear in an answer.
const LEAK = new RegExp([
  String.raw`https?:\/\/`, String.raw`(?:\d{1,3}\.){3}\d{1,3}:\d+`, String.raw`localhost:\d+`, "ECONNREFUSED", "ETIMEDOUT",
  String.raw`\/(?:work|home|usr|app|tmp|var)\/[\w.-]+\/`, "node_modules", String.raw`\.(?:ts|js|mjs):\d+`, String.raw`\n\s+at `,
  "SQLSTATE", String.raw`\bcode\W{0,4}[0-9A-Z]{5}\b`, String.raw`\b\d\d[A-SU-Z]\d\d\b`, "Invalid `prisma", String.raw`\d{13,19}`,
].join("|"), "i");

const key = new TextEncoder().encode(JWT_SECRET);
const CUSTOMERS = ["fuzz-alice", "fuzz-bob"];

// ---------- values ----------
const nasty = fc.constantFrom(
  "", " ", "\u0000", "a\u0000b", "2030-01-01T10:00:00", "tomorrow", "2030-02-30T10:00:00Z", "2030-01-01T24:00:00Z", "9999-12-31T23:59:59Z",
  "4000056655665556", "4000 0566 5566 5556", "4242-4242-4242-4242", "'; DROP TABLE reservation; --", "../../etc/passwd",
  "http://169.254.169.254/latest", "car-001", "car-999", "00000000-0000-0000-0000-000000000000", "${jndi:ldap://x}", "%00", "😀".repeat(50),
  "x".repeat(5_000), "-1", "1e309", "NaN", "__proto__", "constructor",
);
const scalar = fc.oneof(
  nasty, fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.bigInt({ min: 10n ** 12n, max: 10n ** 19n }).map(String), fc.bigInt({ min: 10n ** 12n, max: 10n ** 15n }).map(Number),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.integer({ min: -5, max: 400 }).map((d) => inDays(d)), fc.uuid(),
);
const value: fc.Arbitrary<unknown> = fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, scalar, fc.jsonValue({ maxDepth: 3 }),
  fc.record({ carId: scalar, pickupAt: scalar, returnAt: scalar }, { requiredKeys: [] }),
  fc.record({ reservationId: scalar, cardNumber: scalar, extra: scalar }, { requiredKeys: [] }),
  fc.array(scalar, { maxLength: 4 }));

// ---------- documents ----------
interface Template { doc: string; vars: string[]; mutation?: string }
const TEMPLATES: Template[] = [
  { doc: "{ cars { id model plateNumber dailyRate } }", vars: [] },
  { doc: "query Avail($p: DateTime!, $r: DateTime!) { availableCars(pickupAt: $p, returnAt: $r) { id model } }", vars: ["p", "r"] },
  { doc: "query R($id: ID!) { reservation(id: $id) { id status amount car { model } payment { status cardLast4 } rental { status } } }", vars: ["id"] },
  { doc: "query Mine($first: Int, $after: ID) { myReservations(first: $first, after: $after) { reservationId status version } }", vars: ["first", "after"] },
  { doc: "mutation Reserve($input: ReserveCarInput!) { reserveCar(input: $input) { id status } }", vars: ["input"], mutation: "reserveCar" },
  { doc: "mutation Pay($input: PayReservationInput!) { payReservation(input: $input) { status cardLast4 } }", vars: ["input"], mutation: "payReservation" },
  { doc: "mutation Cancel($id: ID!) { cancelReservation(reservationId: $id) { id status } }", vars: ["id"], mutation: "cancelReservation" },
  { doc: "mutation PickUp($id: ID!) { pickUpCar(reservationId: $id) { status } }", vars: ["id"], mutation: "pickUpCar" },
  { doc: "subscription { myReservationChanged { reservationId } }", vars: [] },
];

/** A GraphQL literal for a JSON-ish value (object keys are used as they are, so odd keys make odd documents). */
function literal(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(literal).join(", ")}]`;
  if (typeof v === "object") return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${literal(x)}`).join(", ")}}`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

interface Call { body: string | Record<string, unknown> | unknown[]; method: "POST" | "GET"; headers: Record<string, string>; mutation?: string | undefined }

/** Values a real client would plausibly send for each variable, so many requests get past validation into the subgraphs. */
const plausible: Record<string, fc.Arbitrary<unknown>> = {
  p: fc.integer({ min: -3, max: 400 }).map(inDays), r: fc.integer({ min: -3, max: 400 }).map(inDays),
  id: fc.oneof(fc.uuid(), nasty), after: fc.oneof(fc.uuid(), fc.constant(null)), first: fc.integer({ min: -5, max: 150 }),
  input: fc.oneof(
    fc.record({ carId: fc.oneof(fc.integer({ min: 1, max: 30 }).map((i) => `car-${String(i).padStart(3, "0")}`), nasty), pickupAt: fc.integer({ min: -2, max: 60 }).map(inDays), returnAt: fc.integer({ min: -2, max: 90 }).map(inDays) }),
    fc.record({ reservationId: fc.uuid(), cardNumber: fc.oneof(nasty, fc.stringMatching(/^\d{12,20}$/)) }),
  ),
};
const variablesFor = (tpl: Template) => fc.oneof(
  fc.record(Object.fromEntries(tpl.vars.map((name) => [name, fc.oneof(plausible[name]!, value)]))),
  fc.dictionary(fc.constantFrom(...tpl.vars, "extra"), value, { maxKeys: tpl.vars.length + 1 }),
);
const templated = fc.constantFrom(...TEMPLATES).chain((tpl) => fc.oneof(
  // As written, with fuzzed variables.
  variablesFor(tpl).map((variables) => ({ query: tpl.doc, variables, mutation: tpl.mutation })),
  // Arguments inlined as literals.
  variablesFor(tpl).map((variables) => ({
    query: tpl.doc.replace(/^(query|mutation) \w+\([^)]*\)/, "$1").replace(/\$(\w+)/g, (_, name: string) => literal(variables[name])),
    variables: {}, mutation: tpl.mutation,
  })),
  // Random edits of the document text.
  fc.array(fc.record({ at: fc.nat(tpl.doc.length), del: fc.nat(4), ins: fc.string({ maxLength: 3 }) }), { minLength: 1, maxLength: 4 })
    .map((edits) => ({
      query: edits.reduce((doc, e) => doc.slice(0, e.at) + e.ins + doc.slice(e.at + e.del), tpl.doc),
      variables: {}, mutation: tpl.mutation,
    })),
));
const generated = fc.record({
  aliases: fc.nat(60), depth: fc.nat(14), field: fc.constantFrom("cars", "reservation", "x", "__typename", "myReservations", "__schema"),
  directive: fc.constantFrom("", " @skip(if: false)", " @include(if: true)".repeat(60), " @deprecated"),
}).map(({ aliases, depth, field, directive }) => ({
  query: `{ ${Array.from({ length: Math.max(1, aliases) }, (_, i) => `a${i}: ${field}${directive} ${"{ f ".repeat(depth)}${"}".repeat(depth)}`).join(" ")} }`,
  variables: {},
}));
const operation = fc.oneof(
  { weight: 6, arbitrary: templated },
  { weight: 1, arbitrary: generated },
  { weight: 1, arbitrary: fc.record({ query: fc.string({ maxLength: 200 }), variables: fc.jsonValue({ maxDepth: 2 }) }) },
);

// ---------- headers ----------
const signed = (claims: Record<string, unknown>, secret = key) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(secret);
const authorization = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CUSTOMERS).map((sub) => ({ sub, exp: "valid" as const })) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.record({
    sub: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null), fc.constantFrom("fuzz-alice\u0000", "' OR 1=1 --", "a".repeat(129))),
    exp: fc.oneof(fc.constant(undefined), fc.integer({ min: -100_000, max: 400 * 86_400 })),
    iat: fc.oneof(fc.constant(undefined), fc.integer({ min: -100_000, max: 10 * 365 * 86_400 })),
    wrongSecret: fc.boolean(),
  }) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`)).map((raw) => ({ raw })) },
);
const requestId = fc.oneof(fc.constant(undefined), fc.uuid(), fc.string({ maxLength: 200 }), fc.constant("x".repeat(300)));

async function headerValue(a: unknown): Promise<string | undefined> {
  if (!a) return undefined;
  const now = Math.floor(Date.now() / 1000);
  const spec = a as { sub?: unknown; exp?: unknown; iat?: unknown; wrongSecret?: boolean; raw?: string };
  if (spec.raw !== undefined) return spec.raw;
  if (spec.exp === "valid") return `Bearer ${await signed({ sub: spec.sub, iat: now, exp: now + 600 })}`;
  const claims: Record<string, unknown> = { sub: spec.sub };
  if (typeof spec.exp === "number") claims.exp = now + spec.exp;
  if (typeof spec.iat === "number") claims.iat = now + spec.iat;
  return `Bearer ${await signed(claims, spec.wrongSecret ? new TextEncoder().encode("some-other-secret-0123456789") : key)}`;
}

const call: fc.Arbitrary<Promise<Call>> = fc.record({
  op: operation, auth: authorization, requestId,
  transport: fc.constantFrom("json", "json", "json", "json", "get", "batch", "raw", "text-plain"),
  raw: fc.string({ maxLength: 100 }),
}).map(async ({ op, auth, requestId: rid, transport, raw }): Promise<Call> => {
  const headers: Record<string, string> = {};
  const authValue = await headerValue(auth);
  // Header values must be ByteStrings for fetch: anything else is dropped (the client could not send it either).
  const header = (name: string, v: string | undefined) => { if (v !== undefined && /^[\x20-\x7e]*$/.test(v)) headers[name] = v; };
  header("authorization", authValue);
  header("x-request-id", rid);
  const mutation = "mutation" in op ? op.mutation : undefined;
  switch (transport) {
    case "get": return { method: "GET", headers: { ...headers, "apollo-require-preflight": "true" }, body: { query: op.query, variables: op.variables }, mutation };
    case "batch": return { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: [op, op] };
    case "raw": return { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: raw };
    case "text-plain": return { method: "POST", headers: { ...headers, "content-type": "text/plain" }, body: JSON.stringify(op) };
    default: return { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: op as Record<string, unknown>, mutation };
  }
});

interface Outcome { status: number; text: string; json?: { data?: Record<string, any> | null; errors?: { extensions?: { code?: string } }[] } }

async function send(c: Call): Promise<Outcome> {
  const url = new URL(t.stack.routerUrl);
  let body: string | undefined;
  if (c.method === "GET") {
    const { query, variables } = c.body as { query: string; variables: unknown };
    url.searchParams.set("query", query);
    url.searchParams.set("variables", JSON.stringify(variables));
  } else {
    body = typeof c.body === "string" ? c.body : JSON.stringify(c.body);
  }
  const response = await fetch(url, { method: c.method, headers: c.headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  let json: Outcome["json"];
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: response.status, text, json };
}

/** Ids of every row of a table, straight from the subgraph's database. */
async function ids(database: "reservation" | "payment" | "rental", sql: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: t.databaseUrls[database] });
  await client.connect();
  try {
    return (await client.query(sql)).rows.map((r) => String(Object.values(r)[0]));
  } finally {
    await client.end();
  }
}

describe("fuzzing the router edge", () => {
  it("2,500 random and malformed requests: no 5xx, no INTERNAL_SERVER_ERROR, no leaked detail, no row for a rejected input", async () => {
    const accepted = { reserveCar: new Set<string>(), payReservation: new Set<string>(), cancelReservation: new Set<string>(), pickUpCar: new Set<string>() };
    const seen = { requests: 0, statuses: new Map<number, number>(), codes: new Map<string, number>() };
    const check = async (batch: Promise<Call>[]) => {
      const calls = await Promise.all(batch);
      const outcomes = await Promise.all(calls.map(send));
      outcomes.forEach((o, i) => {
        seen.requests++;
        seen.statuses.set(o.status, (seen.statuses.get(o.status) ?? 0) + 1);
        for (const e of o.json?.errors ?? []) seen.codes.set(String(e.extensions?.code), (seen.codes.get(String(e.extensions?.code)) ?? 0) + 1);
        const context = `request ${JSON.stringify(calls[i]).slice(0, 600)} -> ${o.status} ${o.text.slice(0, 600)}`;
        expect(o.status, context).toBeLessThan(500);
        // Errors (and anything else but data, which is the client's own) must not carry internal detail.
        const visible = o.json ? JSON.stringify({ ...o.json, data: undefined }) : o.text;
        expect(visible, context).not.toMatch(LEAK);
        expect((o.json?.errors ?? []).map((e) => e.extensions?.code), context).not.toContain("INTERNAL_SERVER_ERROR");
        const mutation = calls[i]!.mutation as keyof typeof accepted | undefined;
        const result = mutation ? o.json?.data?.[mutation] : undefined;
        if (mutation && result) accepted[mutation].add(mutation === "reserveCar" || mutation === "cancelReservation" ? result.id : "any");
      });
    };
    const run = (runs: number) => fc.assert(fc.asyncProperty(fc.array(call, { minLength: 10, maxLength: 10 }), check), { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), verbose: 1 });

    await run(200);
    // A deliberately stopped subgraph: its parts must come back as SERVICE_UNAVAILABLE, never as its address.
    await t.stack.restart("payment", { restart: false });
    try {
      await run(50);
    } finally {
      await t.stack.start("payment");
    }

    console.log(`fuzz: ${seen.requests} requests; statuses ${JSON.stringify([...seen.statuses])}; codes ${JSON.stringify([...seen.codes])}`);
    expect(seen.requests).toBeGreaterThanOrEqual(2_500);
    // No row for a rejected input: every reservation row is one the router reported as created.
    const reservations = await ids("reservation", "SELECT id FROM reservation");
    expect(reservations.filter((id) => !accepted.reserveCar.has(id))).toEqual([]);
    const paid = await ids("payment", "SELECT reservation_id FROM payment WHERE status <> 'REQUESTED' AND status <> 'CANCELLED'");
    if (accepted.payReservation.size === 0) expect(paid).toEqual([]);
    const pickedUp = await ids("rental", "SELECT reservation_id FROM rental WHERE status IN ('PICKED_UP', 'RETURNED')");
    if (accepted.pickUpCar.size === 0) expect(pickedUp).toEqual([]);
  }, 240_000);
});
