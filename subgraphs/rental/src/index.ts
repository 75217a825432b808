export { rentalTypeDefsUrl, startRentalSubgraph } from "./app.ts";
export { rentalEnvSchema } from "./env.ts";
// The saga's building blocks, for tests that drive them in-process (e2e property test).
export { PrismaClient as RentalPrismaClient } from "./generated/prisma/client.ts";
export { rentalEventHandlers } from "./event-handlers.ts";
export { pickUpCar, returnCar, type RentalDeps } from "./rentals.ts";
export { seedFleet } from "./fleet-seed.ts";
