/** A car of the seed fleet. Ids are stable so seeding is idempotent and walk-throughs can name cars. */
export interface FleetCar {
  id: string;
  model: string;
  /** Korean registration plate. */
  plateNumber: string;
  /** Daily rate in KRW. */
  dailyRate: number;
}

const MODELS: ReadonlyArray<readonly [model: string, dailyRate: number]> = [
  ["Hyundai Avante", 55_000],
  ["Hyundai Sonata", 75_000],
  ["Hyundai Grandeur", 110_000],
  ["Hyundai Tucson", 90_000],
  ["Hyundai Santa Fe", 120_000],
  ["Hyundai Ioniq 5", 130_000],
  ["Kia Morning", 40_000],
  ["Kia K5", 78_000],
  ["Kia K8", 115_000],
  ["Kia Sportage", 92_000],
  ["Kia Sorento", 125_000],
  ["Kia Carnival", 150_000],
  ["Kia EV6", 135_000],
  ["Genesis G80", 190_000],
  ["Genesis GV70", 180_000],
  ["Chevrolet Trax", 60_000],
  ["Renault QM6", 85_000],
  ["KG Mobility Torres", 95_000],
  ["Tesla Model 3", 160_000],
  ["BMW 520i", 210_000],
  ["Mercedes-Benz E300", 230_000],
  ["Toyota Camry Hybrid", 100_000],
  ["Volvo XC60", 200_000],
  ["Hyundai Casper", 45_000],
];

const PLATE_SYLLABLES = ["하", "허", "호"] as const;

/**
 * The seed fleet (24 cars): ids `car-001`..`car-024`. Rental loads it into its `car`
 * table and reservation into its rate-card replica, both idempotently on start.
 */
export const FLEET: readonly FleetCar[] = MODELS.map(([model, dailyRate], index) => {
  const n = index + 1;
  return {
    id: `car-${String(n).padStart(3, "0")}`,
    model,
    // Rental-car plates in Korea use 하/허/호; the digits are derived from the index.
    plateNumber: `${10 + n}${PLATE_SYLLABLES[n % PLATE_SYLLABLES.length]} ${String(1000 + n * 37).padStart(4, "0")}`,
    dailyRate,
  };
});
