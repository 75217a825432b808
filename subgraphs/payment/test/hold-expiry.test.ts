import { randomUUID } from "node:crypto";
import { createPrismaAdapter } from "@rentcar/db";
import type { HttpService } from "@rentcar/platform";
import { callSubgraph, createTestDatabase, errorCodes, TEST_INTERNAL_SECRET, testSubgraphEnv, type TestDatabase } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrismaClient } from "../src/generated/prisma/client.ts";
import { expireUnpaidPayments } from "../src/hold-expiry.ts";
import { paymentEnvSchema, startPaymentSubgraph } from "../src/index.ts";

// Payment owns the paid-vs-expired decision of an unpaid hold (README "Unpaid holds expire").
let db: TestDatabase;
let service: HttpService;
let prisma: PrismaClient;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase("payment");
  // The service's own sweep is slowed down so that this file decides when expiry runs.
  service = await startPaymentSubgraph(paymentEnvSchema.parse(testSubgraphEnv(db.url, { HOLD_EXPIRY_SWEEP_MS: "3600000" })));
  prisma = new PrismaClient({ adapter: createPrismaAdapter(db.url) });
  url = `${service.url}/graphql`;
});
afterAll(async () => {
  await prisma?.$disconnect();
  await service?.shutdown("test done");
  await db?.drop();
});

const REGISTER = `mutation($input: RegisterPaymentInput!) { registerPayment(input: $input) { id status expiresAt } }`;
const PAY = `mutation($input: PayReservationInput!) { payReservation(input: $input) { id status } }`;

async function register(customerId: string, expiresAt: Date) {
  const reservationId = randomUUID();
  const res = await callSubgraph(url, REGISTER, { input: { reservationId, customerId, amount: 55_000, carId: "car-001", expiresAt: expiresAt.toISOString() } },
    { issuer: "reservation" }, TEST_INTERNAL_SECRET);
  expect(res.errors).toBeUndefined();
  return reservationId;
}
const pay = (customerId: string, reservationId: string) =>
  callSubgraph(url, PAY, { input: { reservationId, cardNumber: "4242424242424242" } }, { issuer: "router", customerId }, TEST_INTERNAL_SECRET);
const events = async (reservationId: string) =>
  (await prisma.outboxEvent.findMany({ where: { reservationId } })).map((e) => e.type).filter((t) => t !== "PaymentRegistered").sort();

describe("unpaid hold expiry (payment decides)", () => {
  it("a payment racing its deadline ends PAID or expired, never both, and the caller is told which", async () => {
    const customer = `race-${randomUUID()}`;
    for (let round = 0; round < 30; round++) {
      const reservationId = await register(customer, new Date(Date.now() + 40));
      await new Promise((resolve) => setTimeout(resolve, round % 7 * 10));
      const [paid] = await Promise.all([pay(customer, reservationId), expireUnpaidPayments(prisma)]);
      const payment = await prisma.payment.findUniqueOrThrow({ where: { reservationId } });
      if (payment.status === "PAID") {
        expect(paid.data!.payReservation.status).toBe("PAID");
        expect(await events(reservationId)).toEqual(["PaymentCompleted"]);
      } else {
        expect(errorCodes(paid)).toEqual(["CONFLICT"]);
        expect(paid.errors![0]!.extensions!.reason).toBe("EXPIRED");
        // The sweep may not have run before the refused payment: run it again; it expires exactly once.
        await expireUnpaidPayments(prisma);
        expect((await prisma.payment.findUniqueOrThrow({ where: { reservationId } })).status).toBe("CANCELLED");
        expect(await events(reservationId)).toEqual(["PaymentExpired"]);
      }
    }
  });

  it("a payment registered after its deadline (PAYMENT_DELAYED) cannot be paid and is expired", async () => {
    const customer = `late-${randomUUID()}`;
    const reservationId = await register(customer, new Date(Date.now() - 1_000));
    const paid = await pay(customer, reservationId);
    expect(errorCodes(paid)).toEqual(["CONFLICT"]);
    expect(paid.errors![0]!.extensions!.reason).toBe("EXPIRED");
    expect(await expireUnpaidPayments(prisma)).toBeGreaterThanOrEqual(1);
    expect(await events(reservationId)).toEqual(["PaymentExpired"]);
    expect(await expireUnpaidPayments(prisma)).toBe(0);
  });

  it("a payment without a deadline or paid in time never expires", async () => {
    const customer = `keep-${randomUUID()}`;
    const inTime = await register(customer, new Date(Date.now() + 60_000));
    expect((await pay(customer, inTime)).data!.payReservation.status).toBe("PAID");
    await prisma.payment.update({ where: { reservationId: inTime }, data: { expiresAt: new Date(Date.now() - 1) } });
    await expireUnpaidPayments(prisma);
    expect((await prisma.payment.findUniqueOrThrow({ where: { reservationId: inTime } })).status).toBe("PAID");
    expect(await events(inTime)).toEqual(["PaymentCompleted"]);
  });
});
