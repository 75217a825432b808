import { FLEET } from "@rentcar/domain";
import type { HttpService } from "@rentcar/platform";
import { callSubgraph, createTestDatabase, TEST_INTERNAL_SECRET, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rentalEnvSchema, startRentalSubgraph } from "../src/index.ts";

let db: TestDatabase;
let service: HttpService;
let url: string;
const call = (query: string, variables: Record<string, unknown> = {}) =>
  callSubgraph(url, query, variables, { issuer: "router" }, TEST_INTERNAL_SECRET);

beforeAll(async () => {
  db = await createTestDatabase("rental");
  service = await startRentalSubgraph(rentalEnvSchema.parse(testSubgraphEnv(db.url)));
  url = `${service.url}/graphql`;
});
afterAll(async () => {
  await service?.shutdown("test done");
  await db?.drop();
});

describe("rental subgraph", () => {
  it("seeds the fleet of at least 20 cars idempotently (a second start adds nothing)", async () => {
    const second = await startRentalSubgraph(rentalEnvSchema.parse(testSubgraphEnv(db.url)));
    await second.shutdown("test done");
    const { data } = await call("{ cars { id model plateNumber dailyRate } }");
    expect(FLEET.length).toBeGreaterThanOrEqual(20);
    expect(data!.cars).toEqual([...FLEET].sort((a, b) => a.id.localeCompare(b.id)));
    expect(new Set(data!.cars.map((c: { plateNumber: string }) => c.plateNumber)).size).toBe(FLEET.length);
  });

  it("resolves Car references in one batch, in order, null for unknown ids", async () => {
    const ids = ["car-003", "car-999", "car-001", "car-003"];
    const { data, errors } = await call(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Car { id model } } }`,
      { r: ids.map((id) => ({ __typename: "Car", id })) },
    );
    expect(errors).toBeUndefined();
    expect(data!._entities.map((c: { id: string } | null) => c?.id ?? null)).toEqual(["car-003", null, "car-001", "car-003"]);
  });

  it("contributes Reservation.car from the required carId and Reservation.rental (null before payment)", async () => {
    const { data } = await call(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { car { id model } rental { id } } } }`,
      { r: [{ __typename: "Reservation", id: "8d6f8c1e-6a2b-4b8e-9a51-3f1f0b7c2d10", carId: "car-002" }] },
    );
    expect(data!._entities[0]).toEqual({ car: { id: "car-002", model: FLEET[1]!.model }, rental: null });
  });

  it("reports ready with its database and Redis checks, and exposes Prometheus metrics", async () => {
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { database: "ok", redis: "ok" } });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/graphql_operations_total\{.*service="rental".*\} \d+/);
    expect(metrics).toContain("graphql_operation_duration_seconds_bucket");
  });
});
