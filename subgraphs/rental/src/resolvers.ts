import { DateTimeScalar, visibleTo } from "@rentcar/platform";
import type { Rental } from "./generated/prisma/client.ts";
import type { RentalContext } from "./context.ts";

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
      visibleTo(ctx, await ctx.loaders.rentalById.load(ref.id)),
    car: (rental: Rental, _: unknown, ctx: RentalContext) => ctx.loaders.carById.load(rental.carId),
  },
  Reservation: {
    car: (reservation: { carId: string }, _: unknown, ctx: RentalContext) => ctx.loaders.carById.load(reservation.carId),
    rental: async (reservation: { id: string }, _: unknown, ctx: RentalContext) =>
      visibleTo(ctx, await ctx.loaders.rentalByReservationId.load(reservation.id)),
  },
};
