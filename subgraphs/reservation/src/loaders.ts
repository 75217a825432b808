import { batchLoader } from "@rentcar/platform";
import type { PrismaClient, Reservation } from "./generated/prisma/client.ts";

/** Per-request loaders: one query per entity type per request. */
export function createLoaders(db: PrismaClient) {
  return {
    reservationById: batchLoader<string, Reservation>(
      (ids) => db.reservation.findMany({ where: { id: { in: [...ids] } } }),
      (r) => r.id,
    ),
  };
}

export type ReservationLoaders = ReturnType<typeof createLoaders>;
