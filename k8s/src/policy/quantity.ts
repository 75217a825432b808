const SUFFIXES: Record<string, number> = {
  "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * The numeric value of a Kubernetes resource quantity ("250m" -> 0.25,
 * "512Mi" -> 536870912, 1 -> 1).
 * @throws Error for anything that is not a quantity.
 */
export function parseQuantity(quantity: unknown): number {
  if (typeof quantity === "number") return quantity;
  const match = typeof quantity === "string" ? /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(quantity) : null;
  if (!match) throw new Error(`not a quantity: ${String(quantity)}`);
  return Number(match[1]) * (SUFFIXES[match[2] ?? ""] ?? 1);
}
