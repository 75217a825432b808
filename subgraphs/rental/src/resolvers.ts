import { DateTimeScalar } from "@rentcar/platform";
import type { Rental } from "./generated/prisma/client.ts";
import type { RentalContext } from "./context.ts";

/** A rental is visible to its customer and to sibling services (never to another customer). */
function visible(rental: Rental | null, ctx: RentalContext): Rental | null {
  if (!rental) return null;
  return ctx.caller.issuer !== "router" || rental.customerId === ctx.customerId ? rental : null;
}

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    cars: (_: unknown, __: unknown, ctx: RentalContext) => ctx.db.car.findMany({ orderBy: { id: "asc" } }),
  },
  Car: {
    __resolveReference: (ref: { id: string }, ctx: RentalContext) => ctx.loaders.carById.load(ref.id),
  },
  Rental: {
    __resolveReference: async (ref: { id: string }, ctx: RentalContext) =>
      visible(await ctx.loaders.rentalById.load(ref.id), ctx),
    car: (rental: Rental, _: unknown, ctx: RentalContext) => ctx.loaders.carById.load(rental.carId),
  },
  Reservation: {
    car: (reservation: { carId: string }, _: unknown, ctx: RentalContext) => ctx.loaders.carById.load(reservation.carId),
    rental: async (reservation: { id: string }, _: unknown, ctx: RentalContext) =>
      visible(await ctx.loaders.rentalByReservationId.load(reservation.id), ctx),
  },
};
