/**
 * `npm run projection:rebuild`: rebuilds the reservation subgraph's "my reservations" read
 * model from the owning subgraphs (reservations from its database, payment and rental
 * statuses from their subgraphs). Idempotent. Database, subgraph URLs and INTERNAL_SECRET
 * come from the local stack configuration (by default the running `npm start`).
 */
import { createPrismaAdapter } from "@rentcar/db";
import { resolveToolConfig } from "@rentcar/platform/local-stack";
import { rebuildProjection, ReservationPrismaClient } from "@rentcar/reservation";
import { exitOnSignals, toolConfig } from "./tool-config.ts";

const config = toolConfig("projection:rebuild", resolveToolConfig);
const databaseUrl = config.databaseUrls.reservation;
const db = new ReservationPrismaClient({ adapter: createPrismaAdapter(databaseUrl, { max: 2, connectionTimeoutMillis: 5_000 }) });
exitOnSignals(() => db.$disconnect());
try {
  console.error(`projection:rebuild: reservation database ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}, payment ${config.subgraphUrls.payment}, rental ${config.subgraphUrls.rental}`);
  const result = await rebuildProjection(db, {
    paymentUrl: config.subgraphUrls.payment,
    rentalUrl: config.subgraphUrls.rental,
    internalSecret: config.internalSecret,
  });
  console.log(`projection rebuilt: ${result.checked} reservations checked, ${result.changed} rows changed`);
} catch (error) {
  console.error(`projection rebuild failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
