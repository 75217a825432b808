import { describe, expect, it } from "vitest";
import { ConfigError, LOCAL_INTERNAL_SECRET, parseEnv } from "../src/config.ts";
import { LOCAL_JWT_SECRET } from "../src/customer-token.ts";
import { firstForbiddenField, PUBLIC_API } from "../src/internal-auth.ts";
import { OTHER_OPERATION_LABEL, operationLabels } from "../src/metrics.ts";
import { redactInternals } from "../src/redaction.ts";
import { acceptRequestId } from "../src/request-id.ts";
import { subgraphEnvSchema } from "../src/subgraph-env.ts";

const LONG = "x".repeat(40);

describe("production secrets", () => {
  const parse = (env: Record<string, string>) => () => parseEnv(subgraphEnvSchema("payment", 4002), { NODE_ENV: "production", ...env });

  it("refuses a subgraph started in production with the default or a short INTERNAL_SECRET", () => {
    expect(parse({})).toThrow(ConfigError);
    expect(parse({ INTERNAL_SECRET: LOCAL_INTERNAL_SECRET })).toThrow(/local default/);
    expect(parse({ INTERNAL_SECRET: "sixteen-chars-ok-in-dev" })).toThrow(/at least 32/);
    expect(parse({ INTERNAL_SECRET: LONG })()).toMatchObject({ INTERNAL_SECRET: LONG });
  });

  it("accepts the local defaults outside production", () => {
    expect(parseEnv(subgraphEnvSchema("payment", 4002), { NODE_ENV: "development" }).INTERNAL_SECRET).toBe(LOCAL_INTERNAL_SECRET);
  });

  it("checks JWT_SECRET too when the service has one", async () => {
    const { z } = await import("zod");
    const schema = subgraphEnvSchema("x", 1).extend({ JWT_SECRET: z.string().default(LOCAL_JWT_SECRET) });
    expect(() => parseEnv(schema, { NODE_ENV: "production", INTERNAL_SECRET: LONG })).toThrow(/JWT_SECRET/);
  });
});

describe("internal caller allow-list", () => {
  const policy = { router: PUBLIC_API, reservation: ["registerPayment"] } as const;
  const internal = new Set(["registerPayment"]);

  it("lets the router call the public API but not internal operations", () => {
    expect(firstForbiddenField(policy, "router", ["payReservation", "_entities", "__typename"], internal)).toBeUndefined();
    expect(firstForbiddenField(policy, "router", ["registerPayment"], internal)).toBe("registerPayment");
  });

  it("lets a service call only its listed operations, and refuses unlisted issuers", () => {
    expect(firstForbiddenField(policy, "reservation", ["registerPayment"], internal)).toBeUndefined();
    expect(firstForbiddenField(policy, "reservation", ["payReservation"], internal)).toBe("payReservation");
    expect(firstForbiddenField(policy, "reservation", ["_entities"], internal)).toBe("_entities");
    expect(firstForbiddenField(policy, "rental", ["_entities"], internal)).toBe("_entities");
    expect(firstForbiddenField(policy, "constructor", ["_entities"], internal)).toBe("_entities");
  });
});

describe("request ids", () => {
  it("keeps a well-formed x-request-id and replaces anything else", () => {
    expect(acceptRequestId("3f1c2b9e-8d1a-4c43-9a57-1f7e0c2d4b6a")).toBe("3f1c2b9e-8d1a-4c43-9a57-1f7e0c2d4b6a");
    expect(acceptRequestId("client-req-000123")).toBe("client-req-000123");
    for (const bad of ['x"}\n{"level":60,"msg":"forged', "a".repeat(5000), "short", "with space inside", "", undefined]) {
      expect(acceptRequestId(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe("metrics labels", () => {
  it("folds operation names beyond the bounded set, and malformed ones, into one label", () => {
    const label = operationLabels(3);
    expect(["A", "B", "C"].map(label)).toEqual(["A", "B", "C"]);
    expect(label("D")).toBe(OTHER_OPERATION_LABEL);
    expect(label("A")).toBe("A");
    expect(label("x".repeat(65))).toBe(OTHER_OPERATION_LABEL);
    expect(label(undefined)).toBe("anonymous");
  });
});

describe("redaction of client-visible text", () => {
  it.each([
    ["request to http://127.0.0.1:4003/graphql failed, reason: connect ECONNREFUSED 127.0.0.1:4003", /127\.0\.0\.1|4003|http/],
    ["at /work/app/node_modules/@prisma/client/runtime/library.js:123:45", /work|library\.js/],
    ["Invalid `prisma.reservation.findMany()` invocation in\n/app/subgraphs/reservation/src/reservations.ts:42:7", /reservations\.ts|\/app/],
    ["ERROR: invalid byte sequence for encoding \"UTF8\": 0x00 (SQLSTATE 22021)", /22021|SQLSTATE/],
    ["db error: code 23P01 exclusion violation", /23P01/],
    ["got invalid value 4000056655665556", /4000056655665556/],
    ["got invalid value \"4000 0566 5566 5556\"", /4000 0566/],
    ["postgresql://postgres@db:5432/rentcar_payment refused", /postgres@|5432/],
  ])("removes internals from %j", (text, leak) => {
    const out = redactInternals(text);
    expect(out).not.toMatch(leak);
  });

  it("leaves ordinary messages, dates and UUIDs alone", () => {
    for (const text of [
      "returnAt must be after pickupAt",
      "DateTime must be an ISO-8601 string with a time zone, e.g. 2030-01-31T09:00:00Z; got \"2030-01-01T10:00:00\"",
      "reservation 123e4567-e89b-12d3-a456-426614174000 not found",
      "a rental lasts at most 30 days; this one is 31",
    ]) expect(redactInternals(text)).toBe(text);
    expect(redactInternals("got invalid value 4000056655665556")).toContain("****5556");
  });
});
