import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createEvent, EVENT_TYPES, parseEvent } from "../src/contracts.ts";
import { ROUTES } from "../src/routing.ts";

const correlation = { reservationId: randomUUID(), customerId: "alice" };

describe("event contracts", () => {
  it("builds a versioned envelope with a fresh id and UTC time, and parses it back", () => {
    const event = createEvent("PaymentCompleted", correlation, { paymentId: randomUUID(), amount: 234_000, carId: "car-008" });
    expect(event).toMatchObject({ type: "PaymentCompleted", version: 1, ...correlation });
    expect(event.occurredAt).toMatch(/Z$/);
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual({ ok: true, event });
  });

  it("refuses to build an event whose payload breaks the contract", () => {
    expect(() => createEvent("PaymentCompleted", correlation, { paymentId: "x", amount: -1, carId: "" })).toThrow();
  });

  it("explains why data is not an event", () => {
    const result = parseEvent({ type: "PaymentCompleted", reservationId: "nope" });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/reservationId/);
    expect(parseEvent({ type: "Unheard" }).ok).toBe(false);
  });

  it("routes every event type", () => {
    expect(Object.keys(ROUTES).sort()).toEqual([...EVENT_TYPES].sort());
  });
});
