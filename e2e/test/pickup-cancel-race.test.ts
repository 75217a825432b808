import { errorCodes, type GraphQLResponse } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays, startTestStack, type TestStack } from "./support.ts";

// pickUpCar and cancelReservation fired at the same moment for a paid, READY reservation,
// 100 times through the router: one owner (reservation's conditional updates) decides.

let t: TestStack;
beforeAll(async () => {
  // Generous call timeouts: this test is about who decides, not about slow services (a loaded CI machine
  // would otherwise turn some rounds into SERVICE_UNAVAILABLE / PAYMENT_DELAYED, which other tests cover);
  // a failed setup step names its errors.
  t = await startTestStack({ RESERVATION_TIMEOUT_MS: "15000", PAYMENT_TIMEOUT_MS: "15000", SUBGRAPH_TIMEOUT_MS: "30000" });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const ROUNDS = 100;
/** Rounds raced at the same time (each on its own car and period). */
const PARALLEL = 10;
const CARS = 24;

const VIEW = `query($id: ID!) { reservation(id: $id) { status pickedUpAt payment { status } rental { status } } }`;
type View = { status: string; pickedUpAt: string | null; payment: { status: string } | null; rental: { status: string } | null };

/** Round `r` uses its own car and a 2-day period that no other round overlaps. */
function slot(r: number) {
  const carId = `car-${String(1 + (r % CARS)).padStart(3, "0")}`;
  const startDay = 3 + Math.floor(r / CARS) * 3;
  return { carId, pickupAt: inDays(startDay), returnAt: inDays(startDay + 2) };
}

const reserve = (customer: string, input: ReturnType<typeof slot>) =>
  t.gql(customer, `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status } }`, { input });

interface Outcome {
  round: number;
  pickUp: GraphQLResponse;
  cancel: GraphQLResponse;
  final: View;
  /** Another customer's reserveCar for the same car and period, after the round settled. */
  rebook: GraphQLResponse;
}

async function round(r: number): Promise<Outcome> {
  const customer = `racer-${r}`;
  const input = slot(r);
  const reserved = await reserve(customer, input);
  expect(reserved.errors, `round ${r}: reserveCar ${JSON.stringify(reserved.errors)}`).toBeUndefined();
  const id = reserved.data!.reserveCar.id as string;
  const paid = await t.gql(customer, `mutation($input: PayReservationInput!) { payReservation(input: $input) { status } }`,
    { input: { reservationId: id, cardNumber: "4242424242424242" } });
  expect(paid.data?.payReservation.status, `round ${r}: payReservation`).toBe("PAID");
  const view = async () => (await t.gql(customer, VIEW, { id })).data?.reservation as View | undefined;
  await eventually(async () => (await view())?.rental?.status === "READY");

  const [pickUp, cancel] = await Promise.all([
    t.gql(customer, `mutation($id: ID!) { pickUpCar(reservationId: $id) { status } }`, { id }),
    t.gql(customer, `mutation($id: ID!) { cancelReservation(reservationId: $id) { status } }`, { id }),
  ]);
  // Settled: the picked-up side needs nothing more; the cancelled side waits for refund and rental cancellation.
  const final = await eventually(async () => {
    const v = await view();
    const settled = v?.rental?.status === "PICKED_UP" || (v?.payment?.status === "REFUNDED" && v?.rental?.status === "CANCELLED");
    return settled ? v : undefined;
  });
  const rebook = await reserve(`rebooker-${r}`, input);
  return { round: r, pickUp, cancel, final, rebook };
}

describe("pickUpCar racing cancelReservation", () => {
  it(`ends every one of ${ROUNDS} rounds either picked up or cancelled, never both, and never double-books the car`, async () => {
    const outcomes: Outcome[] = [];
    for (let first = 0; first < ROUNDS; first += PARALLEL) {
      outcomes.push(...await Promise.all(Array.from({ length: Math.min(PARALLEL, ROUNDS - first) }, (_, i) => round(first + i))));
    }
    const problems: string[] = [];
    let pickedUp = 0;
    let cancelled = 0;
    for (const o of outcomes) {
      const pickUpOk = !o.pickUp.errors && o.pickUp.data?.pickUpCar.status === "PICKED_UP";
      const cancelOk = !o.cancel.errors && o.cancel.data?.cancelReservation.status === "CANCELLED";
      const summary = `round ${o.round}: pickUp=${pickUpOk ? "ok" : errorCodes(o.pickUp)} cancel=${cancelOk ? "ok" : errorCodes(o.cancel)} `
        + `final=${JSON.stringify(o.final)} rebook=${o.rebook.errors ? errorCodes(o.rebook) : o.rebook.data?.reserveCar.status}`;
      if (pickUpOk && !cancelOk) {
        pickedUp++;
        const expected = errorCodes(o.cancel)[0] === "CONFLICT" && o.final.status === "RESERVED" && o.final.pickedUpAt !== null
          && o.final.payment?.status === "PAID" && o.final.rental?.status === "PICKED_UP" && errorCodes(o.rebook)[0] === "CONFLICT";
        if (!expected) problems.push(summary);
      } else if (cancelOk && !pickUpOk) {
        cancelled++;
        const expected = errorCodes(o.pickUp)[0] === "CONFLICT" && o.final.status === "CANCELLED" && o.final.pickedUpAt === null
          && o.final.payment?.status === "REFUNDED" && o.final.rental?.status === "CANCELLED" && !o.rebook.errors;
        if (!expected) problems.push(summary);
      } else {
        problems.push(`${summary} (${pickUpOk ? "both succeeded" : "neither succeeded"})`);
      }
    }
    console.log(`pick-up vs cancel race: ${pickedUp} picked up, ${cancelled} cancelled, ${problems.length} violations of ${ROUNDS}`);
    expect(problems).toEqual([]);
  }, 300_000);
});
