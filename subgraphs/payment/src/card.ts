import { badUserInput } from "@rentcar/platform";

/** True when `digits` passes the Luhn (mod 10) check used by every card network. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Validates a card number (12-19 digits, spaces and dashes allowed, Luhn check) and
 * returns only its last 4 digits: the full number never leaves this function.
 * @throws BAD_USER_INPUT naming the field when the number is malformed or fails Luhn.
 */
export function cardLast4(cardNumber: string): string {
  const digits = cardNumber.replace(/[\s-]/g, "");
  if (!/^\d{12,19}$/.test(digits)) {
    throw badUserInput("cardNumber must have 12 to 19 digits (spaces and dashes allowed)", { field: "cardNumber" });
  }
  if (!passesLuhn(digits)) throw badUserInput("cardNumber is not a valid card number (Luhn check failed)", { field: "cardNumber" });
  return digits.slice(-4);
}
