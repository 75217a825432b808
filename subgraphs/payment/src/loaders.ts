import { batchLoader } from "@rentcar/platform";
import type { Payment, PrismaClient } from "./generated/prisma/client.ts";

/** Per-request loaders: one query per entity type per request. */
export function createLoaders(db: PrismaClient) {
  return {
    paymentById: batchLoader<string, Payment>((ids) => db.payment.findMany({ where: { id: { in: [...ids] } } }), (p) => p.id),
    paymentByReservationId: batchLoader<string, Payment>(
      (ids) => db.payment.findMany({ where: { reservationId: { in: [...ids] } } }),
      (p) => p.reservationId,
    ),
  };
}

export type PaymentLoaders = ReturnType<typeof createLoaders>;
