import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDatabase, migrateDatabase, migrationsDirFor } from "../src/index.ts";
import { scratchSpace, insertReservation, query } from "./helpers.ts";

const scratch = scratchSpace();
const url = scratch.database();
let car = 0;
const nextCar = () => `car-${++car}`;

beforeAll(async () => {
  await ensureDatabase(url);
  await migrateDatabase({ databaseUrl: url, migrationsDir: migrationsDirFor("reservation") });
});
afterAll(() => scratch.cleanup());

/** The SQLSTATE an insert fails with, or "ok". */
async function outcome(insert: Promise<unknown>): Promise<string> {
  return insert.then(
    () => "ok",
    (error: { code?: string }) => error.code ?? "no code",
  );
}

describe("reservation_no_overlap", () => {
  it("rejects an overlapping RESERVED reservation of the same car with 23P01", async () => {
    const carId = nextCar();
    await insertReservation(url, carId, "2030-01-01T10:00Z", "2030-01-05T10:00Z");
    expect(await outcome(insertReservation(url, carId, "2030-01-04T10:00Z", "2030-01-08T10:00Z"))).toBe("23P01");
    expect(await outcome(insertReservation(url, carId, "2029-12-01T00:00Z", "2030-02-01T00:00Z"))).toBe("23P01");
  });

  it("treats PAYMENT_DELAYED as holding the car too", async () => {
    const carId = nextCar();
    await insertReservation(url, carId, "2030-01-01T10:00Z", "2030-01-05T10:00Z", "PAYMENT_DELAYED");
    expect(await outcome(insertReservation(url, carId, "2030-01-02T10:00Z", "2030-01-03T10:00Z"))).toBe("23P01");
  });

  it("accepts the overlap once the first reservation is CANCELLED", async () => {
    const carId = nextCar();
    const [first] = await insertReservation(url, carId, "2030-01-01T10:00Z", "2030-01-05T10:00Z");
    await query(url, "UPDATE reservation SET status = 'CANCELLED' WHERE id = $1", [first!.id]);
    expect(await outcome(insertReservation(url, carId, "2030-01-04T10:00Z", "2030-01-08T10:00Z"))).toBe("ok");
  });

  it("accepts periods that only touch (half-open [pickup, return))", async () => {
    const carId = nextCar();
    await insertReservation(url, carId, "2030-01-01T10:00Z", "2030-01-05T10:00Z");
    expect(await outcome(insertReservation(url, carId, "2030-01-05T10:00Z", "2030-01-08T10:00Z"))).toBe("ok");
    expect(await outcome(insertReservation(url, carId, "2029-12-28T10:00Z", "2030-01-01T10:00Z"))).toBe("ok");
  });

  it("accepts overlapping periods of different cars", async () => {
    await insertReservation(url, nextCar(), "2030-01-01T10:00Z", "2030-01-05T10:00Z");
    expect(await outcome(insertReservation(url, nextCar(), "2030-01-01T10:00Z", "2030-01-05T10:00Z"))).toBe("ok");
  });

  it("rejects reactivating a cancelled reservation that now overlaps", async () => {
    const carId = nextCar();
    const [first] = await insertReservation(url, carId, "2030-01-01T10:00Z", "2030-01-05T10:00Z", "CANCELLED");
    await insertReservation(url, carId, "2030-01-02T10:00Z", "2030-01-06T10:00Z");
    const reactivate = query(url, "UPDATE reservation SET status = 'RESERVED' WHERE id = $1", [first!.id]);
    expect(await outcome(reactivate)).toBe("23P01");
  });
});
