import { FLEET } from "@rentcar/domain";
import type { PrismaClient } from "./generated/prisma/client.ts";

/**
 * Loads the seed fleet into `car`, idempotently: existing cars keep their id and get
 * the current model, plate and rate; nothing is duplicated on a second start.
 * @returns the number of cars in the fleet.
 */
export async function seedFleet(db: PrismaClient): Promise<number> {
  await db.$transaction(FLEET.map((car) => db.car.upsert({
    where: { id: car.id },
    create: car,
    update: { model: car.model, plateNumber: car.plateNumber, dailyRate: car.dailyRate },
  })));
  return FLEET.length;
}
