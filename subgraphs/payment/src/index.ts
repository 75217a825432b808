export { paymentTypeDefsUrl, startPaymentSubgraph } from "./app.ts";
export { paymentEnvSchema } from "./env.ts";
// The saga's building blocks, for tests that drive them in-process (e2e property test).
export { PrismaClient as PaymentPrismaClient } from "./generated/prisma/client.ts";
export { paymentEventHandlers } from "./event-handlers.ts";
export { payReservation, upsertRequestedPayment } from "./payments.ts";
