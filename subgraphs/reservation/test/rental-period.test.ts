import { describe, expect, it } from "vitest";
import { priceOf, validatePeriod } from "../src/rental-period.ts";

const limits = { maxRentalDays: 30, bookingHorizonDays: 365 };
const now = new Date("2030-01-01T00:00:00Z");
const at = (iso: string) => new Date(iso);

describe("rental period rules", () => {
  it("bills whole started 24-hour days", () => {
    expect(validatePeriod(at("2030-01-02T09:00:00Z"), at("2030-01-03T09:00:00Z"), limits, now).days).toBe(1);
    expect(validatePeriod(at("2030-01-02T09:00:00Z"), at("2030-01-03T09:00:01Z"), limits, now).days).toBe(2);
    expect(validatePeriod(at("2030-01-02T09:00:00Z"), at("2030-01-02T10:00:00Z"), limits, now).days).toBe(1);
  });

  it("prices daily rate x days in KRW", () => {
    const period = validatePeriod(at("2030-01-02T09:00:00Z"), at("2030-01-05T09:00:00Z"), limits, now);
    expect(priceOf(78_000, period)).toBe(234_000);
  });

  it.each([
    ["returnAt equal to pickupAt", "2030-01-02T09:00:00Z", "2030-01-02T09:00:00Z", /returnAt must be after pickupAt/],
    ["returnAt before pickupAt", "2030-01-03T09:00:00Z", "2030-01-02T09:00:00Z", /returnAt must be after pickupAt/],
    ["pickupAt in the past", "2029-12-31T23:59:59Z", "2030-01-02T09:00:00Z", /pickupAt must not be in the past/],
    ["pickupAt beyond the horizon", "2031-01-02T09:00:00Z", "2031-01-03T09:00:00Z", /within 365 days/],
    ["longer than 30 days", "2030-01-02T09:00:00Z", "2030-02-01T09:00:01Z", /at most 30 days/],
  ])("rejects %s with BAD_USER_INPUT", (_, pickup, ret, message) => {
    expect(() => validatePeriod(at(pickup), at(ret), limits, now)).toThrow(expect.objectContaining({
      message: expect.stringMatching(message),
      extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }),
    }));
  });

  it("accepts exactly 30 days", () => {
    expect(validatePeriod(at("2030-01-02T09:00:00Z"), at("2030-02-01T09:00:00Z"), limits, now).days).toBe(30);
  });
});
