import { badUserInput } from "@rentcar/platform";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Limits of a rental period, from env (MAX_RENTAL_DAYS, BOOKING_HORIZON_DAYS). */
export interface PeriodLimits {
  maxRentalDays: number;
  bookingHorizonDays: number;
}

/** A validated half-open rental period [pickupAt, returnAt) in UTC. */
export interface RentalPeriod {
  pickupAt: Date;
  returnAt: Date;
  /** Billed days: the length rounded up to whole 24-hour days (at least 1). */
  days: number;
}

/**
 * Checks the period rules and computes the billed days.
 * @throws BAD_USER_INPUT when returnAt is not after pickupAt, pickupAt is in the past
 *   or beyond the booking horizon, or the rental is longer than maxRentalDays.
 */
export function validatePeriod(pickupAt: Date, returnAt: Date, limits: PeriodLimits, now = new Date()): RentalPeriod {
  if (returnAt.getTime() <= pickupAt.getTime()) {
    throw badUserInput("returnAt must be after pickupAt", { field: "returnAt" });
  }
  if (pickupAt.getTime() < now.getTime()) {
    throw badUserInput("pickupAt must not be in the past", { field: "pickupAt" });
  }
  if (pickupAt.getTime() > now.getTime() + limits.bookingHorizonDays * DAY_MS) {
    throw badUserInput(`pickupAt must be within ${limits.bookingHorizonDays} days from now`, { field: "pickupAt" });
  }
  const days = Math.ceil((returnAt.getTime() - pickupAt.getTime()) / DAY_MS);
  if (days > limits.maxRentalDays) {
    throw badUserInput(`a rental lasts at most ${limits.maxRentalDays} days; this one is ${days}`, { field: "returnAt" });
  }
  return { pickupAt, returnAt, days };
}

/** Price in KRW: daily rate x billed days. */
export const priceOf = (dailyRate: number, period: RentalPeriod): number => dailyRate * period.days;

/** Billed days of a stored reservation (same rounding as {@link validatePeriod}). */
export const billedDays = (pickupAt: Date, returnAt: Date): number =>
  Math.ceil((returnAt.getTime() - pickupAt.getTime()) / DAY_MS);
