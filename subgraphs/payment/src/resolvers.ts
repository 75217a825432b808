import { DateTimeScalar, requireCustomer } from "@rentcar/platform";
import type { Payment } from "./generated/prisma/client.ts";
import type { PaymentContext } from "./context.ts";
import { payReservation, registerPayment, type PayReservationInput, type RegisterPaymentInput } from "./payments.ts";

/** A payment is visible to its customer and to sibling services (never to another customer). */
function visible(payment: Payment | null, ctx: PaymentContext): Payment | null {
  if (!payment) return null;
  return ctx.caller.issuer !== "router" || payment.customerId === ctx.customerId ? payment : null;
}

export const resolvers = {
  DateTime: DateTimeScalar,
  Payment: {
    __resolveReference: async (ref: { id: string }, ctx: PaymentContext) =>
      visible(await ctx.loaders.paymentById.load(ref.id), ctx),
  },
  Reservation: {
    payment: async (reservation: { id: string }, _: unknown, ctx: PaymentContext) =>
      visible(await ctx.loaders.paymentByReservationId.load(reservation.id), ctx),
  },
  Mutation: {
    payReservation: (_: unknown, args: { input: PayReservationInput }, ctx: PaymentContext) =>
      payReservation(ctx.db, ctx, requireCustomer(ctx), args.input),
    registerPayment: (_: unknown, args: { input: RegisterPaymentInput }, ctx: PaymentContext) =>
      registerPayment(ctx.db, ctx, args.input),
  },
};
