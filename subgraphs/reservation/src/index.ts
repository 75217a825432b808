export { reservationTypeDefsUrl, startReservationSubgraph } from "./app.ts";
export { reservationEnvSchema } from "./env.ts";
export { rebuildProjection } from "./projection-rebuild.ts";
export { PrismaClient as ReservationPrismaClient } from "./generated/prisma/client.ts";
export { overallStatus } from "./my-reservations.ts";
