import { describe, expect, it } from "vitest";
import { cardLast4, passesLuhn } from "../src/card.ts";

describe("card number", () => {
  it("accepts Luhn-valid numbers and keeps only the last 4 digits", () => {
    expect(cardLast4("4242 4242 4242 4242")).toBe("4242");
    expect(cardLast4("5555-5555-5555-4444")).toBe("4444");
    expect(cardLast4("378282246310005")).toBe("0005");
  });

  it("rejects a number failing the Luhn check with BAD_USER_INPUT", () => {
    expect(passesLuhn("4242424242424241")).toBe(false);
    expect(() => cardLast4("4242424242424241")).toThrow(expect.objectContaining({
      message: expect.stringContaining("Luhn"),
      extensions: expect.objectContaining({ code: "BAD_USER_INPUT", field: "cardNumber" }),
    }));
  });

  it("rejects non-digits and wrong lengths", () => {
    for (const bad of ["", "abcd efgh ijkl", "4242", "42424242424242424242"]) {
      expect(() => cardLast4(bad)).toThrow(/12 to 19 digits/);
    }
  });
});
