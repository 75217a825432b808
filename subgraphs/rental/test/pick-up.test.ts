import { randomUUID } from "node:crypto";
import type { HttpService } from "@rentcar/platform";
import { callSubgraph, createTestDatabase, errorCodes, TEST_INTERNAL_SECRET, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rentalEnvSchema, startRentalSubgraph } from "../src/index.ts";

// Pick-up with the reservation subgraph unreachable: nothing is handed over.
let db: TestDatabase;
let service: HttpService;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase("rental");
  service = await startRentalSubgraph(rentalEnvSchema.parse(testSubgraphEnv(db.url, {
    RESERVATION_URL: "http://127.0.0.1:9/graphql", // nothing listens: connection refused
    RESERVATION_BREAKER_THRESHOLD: "3",
    RESERVATION_BREAKER_HALF_OPEN_MS: "60000",
  })));
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await service?.shutdown("test done");
  await db?.drop();
});

describe("pickUpCar with reservation down", () => {
  it("refuses with SERVICE_UNAVAILABLE, keeps the rental READY, and opens the breaker", async () => {
    const reservationId = randomUUID();
    await client.query(
      `INSERT INTO rental (id, reservation_id, customer_id, car_id, status, updated_at) VALUES ($1, $2, 'alice', 'car-001', 'READY', now())`,
      [randomUUID(), reservationId]);
    const pickUp = () => callSubgraph(`${service.url}/graphql`, `mutation($id: ID!) { pickUpCar(reservationId: $id) { status } }`,
      { id: reservationId }, { issuer: "router", customerId: "alice" }, TEST_INTERNAL_SECRET);
    for (let i = 0; i < 4; i++) {
      const res = await pickUp();
      expect(errorCodes(res)).toEqual(["SERVICE_UNAVAILABLE"]);
    }
    expect((await client.query(`SELECT status, picked_up_at FROM rental WHERE reservation_id = $1`, [reservationId])).rows[0])
      .toEqual({ status: "READY", picked_up_at: null });
    expect(Number((await client.query(`SELECT count(*) FROM outbox_event WHERE reservation_id = $1`, [reservationId])).rows[0].count)).toBe(0);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/reservation_circuit_state\{[^}]*\} 1/);
  });
});
