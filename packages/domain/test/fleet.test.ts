import { describe, expect, it } from "vitest";
import { FLEET } from "../src/fleet.ts";

describe("seed fleet", () => {
  it("has at least 20 cars with unique ids and plates and positive whole-KRW daily rates", () => {
    expect(FLEET.length).toBeGreaterThanOrEqual(20);
    expect(new Set(FLEET.map((c) => c.id)).size).toBe(FLEET.length);
    expect(new Set(FLEET.map((c) => c.plateNumber)).size).toBe(FLEET.length);
    for (const car of FLEET) {
      expect(car.id).toMatch(/^car-\d{3}$/);
      expect(car.plateNumber).toMatch(/^\d{2,3}[하허호] \d{4}$/);
      expect(Number.isInteger(car.dailyRate) && car.dailyRate > 0).toBe(true);
    }
  });
});
