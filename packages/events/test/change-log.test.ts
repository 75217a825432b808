import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import {
  appendToChangeLog, changeLogKey, changeLogVersionsKey, compareEntryIds, decodeCursor, encodeCursor,
} from "../src/change-log.ts";
import { createEvent, type DomainEvent } from "../src/contracts.ts";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `rentcar-test-${randomBytes(4).toString("hex")}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const change = (customerId: string, reservationId: string, version: number): DomainEvent<"MyReservationChanged"> =>
  createEvent("MyReservationChanged", { reservationId, customerId }, {
    carId: "car-001", status: "RESERVED", paymentStatus: null, rentalStatus: null, version, updatedAt: new Date().toISOString(),
  });

const entries = async (customerId: string) => (await redis.xrange(changeLogKey(prefix, customerId), "-", "+"))
  .map(([id, fields]) => ({ id, event: JSON.parse(fields[1]!) as DomainEvent<"MyReservationChanged"> }));

describe("customer change log", () => {
  it("appends in order; a re-relayed version (crash between append and mark-sent) is not appended twice", async () => {
    const reservation = randomUUID();
    const events = [change("alice", reservation, 1), change("alice", reservation, 2)];
    expect(await appendToChangeLog(redis, prefix, 60_000, events)).toBe(2);
    expect(await appendToChangeLog(redis, prefix, 60_000, events)).toBe(0);
    expect(await appendToChangeLog(redis, prefix, 60_000, [change("alice", reservation, 3)])).toBe(1);
    const log = await entries("alice");
    expect(log.map((e) => e.event.payload.version)).toEqual([1, 2, 3]);
    expect(compareEntryIds(log[0]!.id, log[1]!.id)).toBe(-1);
    expect(await redis.pttl(changeLogKey(prefix, "alice"))).toBeGreaterThan(0); // kept for the retention only
  });

  it("keeps each customer's log and its version index in one Redis Cluster slot, different customers apart", async () => {
    expect(changeLogKey(prefix, "bob")).toBe(`${prefix}:my-changes:{bob}`);
    expect(changeLogVersionsKey(prefix, "bob").startsWith(`${prefix}:my-changes:{bob}`)).toBe(true);
    // A hash-tagged prefix (BullMQ style) must not capture the tag: the customer stays the tag.
    expect(changeLogKey("{rentcar}", "bob")).toBe("rentcar:my-changes:{bob}");
  });

  it("encodes cursors opaquely and refuses anything else", () => {
    const cursor = encodeCursor("1732240000000-3");
    expect(cursor).toMatch(/^[\w-]+$/);
    expect(decodeCursor(cursor)).toBe("1732240000000-3");
    for (const bad of ["", "abc", encodeCursor("x-1"), Buffer.from("c1:1-2-3").toString("base64url"), "a".repeat(100)]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
  });
});
