import { DateTimeScalar, requireCustomer, visibleTo } from "@rentcar/platform";
import type { PaymentContext } from "./context.ts";
import { payReservation, registerPayment, type PayReservationInput, type RegisterPaymentInput } from "./payments.ts";

export const resolvers = {
  DateTime: DateTimeScalar,
  Payment: {
    __resolveReference: async (ref: { id: string }, ctx: PaymentContext) =>
      visibleTo(ctx, await ctx.loaders.paymentById.load(ref.id)),
  },
  Reservation: {
    payment: async (reservation: { id: string }, _: unknown, ctx: PaymentContext) =>
      visibleTo(ctx, await ctx.loaders.paymentByReservationId.load(reservation.id)),
  },
  Mutation: {
    payReservation: async (_: unknown, args: { input: PayReservationInput }, ctx: PaymentContext) => {
      const payment = await payReservation(ctx.sql, ctx.idempotency, ctx, requireCustomer(ctx), args.input);
      ctx.published();
      return payment;
    },
    registerPayment: (_: unknown, args: { input: RegisterPaymentInput }, ctx: PaymentContext) =>
      registerPayment(ctx.sql, ctx, args.input),
  },
};
