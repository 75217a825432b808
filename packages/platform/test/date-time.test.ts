import fc from "fast-check";
import { GraphQLError, Kind } from "graphql";
import { describe, expect, it } from "vitest";
import { DateTimeScalar, daysInMonth, parseDateTime } from "../src/date-time.ts";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function codeOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error instanceof GraphQLError ? error.extensions.code : error;
  }
  return "accepted";
}

describe("DateTime scalar", () => {
  it.each([
    "2027-02-30T10:00:00Z",
    "2027-02-29T10:00:00Z", // 2027 is not a leap year
    "2100-02-29T10:00:00Z", // centuries are not leap years unless divisible by 400
    "2027-04-31T10:00:00Z",
    "2027-13-01T10:00:00Z",
    "2027-00-10T10:00:00Z",
    "2027-01-00T10:00:00Z",
    "2027-01-32T10:00:00Z",
    "2027-01-01T24:00:00Z",
    "2027-01-01T23:60:00Z",
    "2027-01-01T23:59:60Z",
    "2027-01-01T10:00:00+24:00",
    "2027-01-01T10:00:00+05:60",
    "2027-01-01T10:00:00", // no offset
    "2027-01-01 10:00:00Z",
    "2027-1-01T10:00:00Z",
    "",
  ])("rejects %j with BAD_USER_INPUT", (input) => {
    expect(codeOf(() => DateTimeScalar.parseValue(input))).toBe("BAD_USER_INPUT");
    expect(codeOf(() => DateTimeScalar.parseLiteral({ kind: Kind.STRING, value: input }))).toBe("BAD_USER_INPUT");
  });

  it.each([
    ["2028-02-29T10:00:00Z", "2028-02-29T10:00:00.000Z"],
    ["2000-02-29T23:59:59.999Z", "2000-02-29T23:59:59.999Z"],
    ["2027-12-31T23:59Z", "2027-12-31T23:59:00.000Z"],
    ["2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00.000Z"],
    ["2027-01-01T10:00:00.123456789-02:30", "2027-01-01T12:30:00.123Z"],
    ["0050-06-01T00:00:00Z", "0050-06-01T00:00:00.000Z"],
  ])("accepts %j as %s", (input, iso) => {
    expect(DateTimeScalar.serialize(DateTimeScalar.parseValue(input))).toBe(iso);
  });

  it("rejects non-strings", () => {
    expect(codeOf(() => DateTimeScalar.parseValue(1_700_000_000_000))).toBe("BAD_USER_INPUT");
    expect(codeOf(() => DateTimeScalar.parseLiteral({ kind: Kind.INT, value: "1" }))).toBe("BAD_USER_INPUT");
  });

  it("does not echo huge input back", () => {
    const huge = `2027-01-01T10:00:00Z${"x".repeat(100_000)}`;
    const error = (() => {
      try {
        parseDateTime(huge);
      } catch (e) {
        return e as GraphQLError;
      }
    })();
    expect(error?.extensions.code).toBe("BAD_USER_INPUT");
    expect(error!.message.length).toBeLessThan(200);
  });

  it("property: every existing calendar instant round-trips to the same UTC instant", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }), (date) => {
        expect(parseDateTime(date.toISOString()).getTime()).toBe(date.getTime());
      }),
      { numRuns: 500 },
    );
  });

  it("property: a field combination is accepted exactly when it names a real date and time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 0, max: 33 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        (year, month, day, hour, minute, second) => {
          const input = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}Z`;
          const exists = month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour < 24 && minute < 60 && second < 60;
          const outcome = codeOf(() => parseDateTime(input));
          expect(outcome).toBe(exists ? "accepted" : "BAD_USER_INPUT");
          if (!exists) return;
          // The instant keeps every field: nothing rolled over into the next day or month.
          expect(parseDateTime(input).toISOString()).toBe(`${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}.000Z`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("daysInMonth follows the Gregorian leap-year rule", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), (year, month) => {
        // Day 0 of the next month is the last day of this month (JS Date's own calendar as the oracle).
        const oracle = new Date(0);
        oracle.setUTCFullYear(year, month, 0);
        expect(daysInMonth(year, month)).toBe(oracle.getUTCDate());
      }),
    );
  });
});
