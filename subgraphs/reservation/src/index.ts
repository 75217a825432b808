export { reservationTypeDefsUrl, startReservationSubgraph } from "./app.ts";
export { reservationEnvSchema } from "./env.ts";
export { rebuildProjection } from "./projection-rebuild.ts";
export { PrismaClient as ReservationPrismaClient } from "./generated/prisma/client.ts";
export { overallStatus } from "./my-reservations.ts";
// The saga's building blocks, for tests that drive them in-process (e2e property test).
export { reservationEventHandlers } from "./event-handlers.ts";
export { claimPickUp } from "./pick-up-claim.ts";
export { availableCarIds, cancelReservation, reserveCar, type ReservationDeps } from "./reservations.ts";
export { seedRateCard } from "./rate-card-seed.ts";
