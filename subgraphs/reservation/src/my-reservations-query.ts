import { badUserInput, isUuid } from "@rentcar/platform";
import type { MyReservation, PrismaClient } from "./generated/prisma/client.ts";

/**
 * The caller's read-model rows, newest first, in one indexed query
 * (`my_reservation(customer_id, created_at DESC, reservation_id)`).
 * @throws BAD_USER_INPUT when `first` is outside 1-100 or `after` is not one of the caller's rows.
 */
export async function myReservations(db: PrismaClient, customerId: string, args: { first?: number; after?: string | null }): Promise<MyReservation[]> {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badUserInput("first must be between 1 and 100", { field: "first" });
  const orderBy = [{ createdAt: "desc" as const }, { reservationId: "desc" as const }];
  if (!args.after) return db.myReservation.findMany({ where: { customerId }, orderBy, take: first });
  const cursor = isUuid(args.after) ? await db.myReservation.findUnique({ where: { reservationId: args.after } }) : null;
  if (!cursor || cursor.customerId !== customerId) throw badUserInput("after must be the reservationId of one of your rows", { field: "after" });
  return db.myReservation.findMany({ where: { customerId }, orderBy, cursor: { reservationId: cursor.reservationId }, skip: 1, take: first });
}

/** One of the caller's rows; null when it does not exist or belongs to someone else. */
export async function myReservation(db: PrismaClient, customerId: string, reservationId: string): Promise<MyReservation | null> {
  if (!isUuid(reservationId)) return null;
  const row = await db.myReservation.findUnique({ where: { reservationId } });
  return row?.customerId === customerId ? row : null;
}
