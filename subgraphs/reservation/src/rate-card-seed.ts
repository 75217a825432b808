import { FLEET } from "@rentcar/domain";
import type { PrismaClient } from "./generated/prisma/client.ts";

/**
 * Loads the daily rates of the seed fleet into the `car_rate` replica, idempotently.
 * Reservation prices and lists availability from this replica so it keeps working
 * while the rental subgraph (owner of the fleet) is down.
 * @returns the number of cars on the rate card.
 */
export async function seedRateCard(db: PrismaClient): Promise<number> {
  await db.$transaction(FLEET.map((car) => db.carRate.upsert({
    where: { carId: car.id },
    create: { carId: car.id, dailyRate: car.dailyRate },
    update: { dailyRate: car.dailyRate, active: true },
  })));
  return FLEET.length;
}
