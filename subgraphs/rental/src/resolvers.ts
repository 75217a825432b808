import { DateTimeScalar, requireCustomer, visibleTo } from "@rentcar/platform";
import type { Rental } from "./generated/prisma/client.ts";
import type { RentalContext } from "./context.ts";
import { pickUpCar, returnCar } from "./rentals.ts";

type StepArgs = { reservationId: string };

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    cars: (_: unknown, __: unknown, ctx: RentalContext) => ctx.db.car.findMany({ orderBy: { id: "asc" } }),
  },
  Mutation: {
    pickUpCar: async (_: unknown, args: StepArgs, ctx: RentalContext) => {
      const rental = await pickUpCar(ctx.deps, ctx, requireCustomer(ctx), args.reservationId);
      ctx.published();
      return rental;
    },
    returnCar: async (_: unknown, args: StepArgs, ctx: RentalContext) => {
      const rental = await returnCar(ctx.deps, ctx, requireCustomer(ctx), args.reservationId);
      ctx.published();
      return rental;
    },
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
