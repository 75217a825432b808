/**
 * `npm run projection:rebuild`: rebuilds the reservation subgraph's "my reservations" read
 * model from the owning subgraphs (reservations from its database, payment and rental
 * statuses from their subgraphs). Idempotent. Env: RESERVATION_DATABASE_URL (or
 * DATABASE_URL), PAYMENT_URL, RENTAL_URL, INTERNAL_SECRET (local defaults otherwise).
 */
import { createPrismaAdapter } from "@rentcar/db";
import { baseEnvSchema } from "@rentcar/platform";
import { rebuildProjection, ReservationPrismaClient } from "@rentcar/reservation";

const databaseUrl = process.env.RESERVATION_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/rentcar_reservation";
const db = new ReservationPrismaClient({ adapter: createPrismaAdapter(databaseUrl, { max: 2 }) });
try {
  const result = await rebuildProjection(db, {
    paymentUrl: process.env.PAYMENT_URL ?? "http://127.0.0.1:4002/graphql",
    rentalUrl: process.env.RENTAL_URL ?? "http://127.0.0.1:4003/graphql",
    internalSecret: baseEnvSchema.shape.INTERNAL_SECRET.parse(process.env.INTERNAL_SECRET),
  });
  console.log(`projection rebuilt: ${result.checked} reservations checked, ${result.changed} rows changed`);
} catch (error) {
  console.error(`projection rebuild failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
