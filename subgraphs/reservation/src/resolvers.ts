import { DateTimeScalar, isUuid, requireCustomer, visibleTo } from "@rentcar/platform";
import type { ReservationContext } from "./context.ts";
import type { Reservation } from "./generated/prisma/client.ts";
import { myReservation, myReservations } from "./my-reservations-query.ts";
import { claimPickUp } from "./pick-up-claim.ts";
import { billedDays } from "./rental-period.ts";
import { availableCarIds, cancelReservation, findOwnReservation, reserveCar, type ReserveCarInput } from "./reservations.ts";

const PAYMENT_DELAYED_NOTICE =
  "Payment registration is delayed because the payment service is busy. Your car is held for you; please pay a little later.";

export const resolvers = {
  DateTime: DateTimeScalar,
  Query: {
    myReservations: (_: unknown, args: { first?: number; after?: string | null }, ctx: ReservationContext) =>
      myReservations(ctx.deps.db, requireCustomer(ctx), args),
    myReservation: (_: unknown, args: { reservationId: string }, ctx: ReservationContext) =>
      myReservation(ctx.deps.db, requireCustomer(ctx), args.reservationId),
    reservation: (_: unknown, args: { id: string }, ctx: ReservationContext) =>
      findOwnReservation(ctx.deps.db, requireCustomer(ctx), args.id),
    availableCars: async (_: unknown, args: { pickupAt: Date; returnAt: Date }, ctx: ReservationContext) =>
      (await availableCarIds(ctx.deps, args.pickupAt, args.returnAt)).map((id) => ({ id })),
  },
  Mutation: {
    reserveCar: (_: unknown, args: { input: ReserveCarInput }, ctx: ReservationContext) =>
      reserveCar(ctx.deps, ctx, requireCustomer(ctx), args.input),
    cancelReservation: (_: unknown, args: { reservationId: string }, ctx: ReservationContext) =>
      cancelReservation(ctx.deps, ctx, requireCustomer(ctx), args.reservationId),
    claimPickUp: (_: unknown, args: { reservationId: string }, ctx: ReservationContext) =>
      claimPickUp(ctx.deps.db, ctx, requireCustomer(ctx), args.reservationId),
  },
  MyReservation: {
    id: (row: { reservationId: string }) => row.reservationId,
    cursor: () => null,
    reservation: async (row: { reservationId: string }, _: unknown, ctx: ReservationContext) =>
      visibleTo(ctx, await ctx.loaders.reservationById.load(row.reservationId)),
  },
  Reservation: {
    /** Entity reference: visible to its customer and to sibling services only. */
    __resolveReference: async (ref: { id: string }, ctx: ReservationContext) => {
      return visibleTo(ctx, isUuid(ref.id) ? await ctx.loaders.reservationById.load(ref.id) : null);
    },
    days: (reservation: Reservation) => billedDays(reservation.pickupAt, reservation.returnAt),
    paymentNotice: (reservation: Reservation) => (reservation.status === "PAYMENT_DELAYED" ? PAYMENT_DELAYED_NOTICE : null),
  },
};
