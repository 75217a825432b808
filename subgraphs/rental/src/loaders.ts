import { batchLoader } from "@rentcar/platform";
import type { Car, PrismaClient, Rental } from "./generated/prisma/client.ts";

/** Per-request loaders: one query per entity type per request. */
export function createLoaders(db: PrismaClient) {
  return {
    carById: batchLoader<string, Car>((ids) => db.car.findMany({ where: { id: { in: [...ids] } } }), (car) => car.id),
    rentalById: batchLoader<string, Rental>((ids) => db.rental.findMany({ where: { id: { in: [...ids] } } }), (r) => r.id),
    rentalByReservationId: batchLoader<string, Rental>(
      (ids) => db.rental.findMany({ where: { reservationId: { in: [...ids] } } }),
      (r) => r.reservationId,
    ),
  };
}

export type RentalLoaders = ReturnType<typeof createLoaders>;
