import { overallStatus } from "@rentcar/reservation";
import pg from "pg";
import type { BenchStack } from "./bench-stack.ts";
import { waitFor } from "./load.ts";

/** One reservation as each store sees it, joined by the correlation key (the reservation id). */
export interface SagaRow {
  id: string;
  reservation: string;
  amount: number;
  payment: { status: string; amount: number } | null;
  rental: string | null;
  view: { status: string; paymentStatus: string | null; rentalStatus: string | null } | null;
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, statement_timeout: 10_000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every reservation with its payment, rental and read-model row, straight from the three databases. */
export async function sagaRows(stack: BenchStack): Promise<SagaRow[]> {
  const [reservations, payments, rentals, views] = await Promise.all([
    query<{ id: string; status: string; amount: number }>(stack.databaseUrls.reservation, "SELECT id, status, amount FROM reservation"),
    query<{ reservation_id: string; status: string; amount: number }>(stack.databaseUrls.payment, "SELECT reservation_id, status, amount FROM payment"),
    query<{ reservation_id: string; status: string }>(stack.databaseUrls.rental, "SELECT reservation_id, status FROM rental"),
    query<{ reservation_id: string; status: string; payment_status: string | null; rental_status: string | null }>(
      stack.databaseUrls.reservation, "SELECT reservation_id, status, payment_status, rental_status FROM my_reservation"),
  ]);
  const payment = new Map(payments.map((p) => [p.reservation_id, { status: p.status, amount: Number(p.amount) }]));
  const rental = new Map(rentals.map((r) => [r.reservation_id, r.status]));
  const view = new Map(views.map((v) => [v.reservation_id, { status: v.status, paymentStatus: v.payment_status, rentalStatus: v.rental_status }]));
  return reservations.map((r) => ({
    id: r.id,
    reservation: r.status,
    amount: Number(r.amount),
    payment: payment.get(r.id) ?? null,
    rental: rental.get(r.id) ?? null,
    view: view.get(r.id) ?? null,
  }));
}

/**
 * Why a settled reservation's stores disagree, or undefined when they agree: the payment
 * is registered with the same amount, a PAID payment has a READY rental, nothing stays
 * PAYMENT_DELAYED, and the read model shows exactly the payment and rental statuses with
 * the overall status derived from them.
 */
export function disagreement(row: SagaRow): string | undefined {
  if (row.reservation === "PAYMENT_DELAYED") return "still PAYMENT_DELAYED";
  if (row.reservation === "RESERVED") {
    if (!row.payment) return "no payment registered";
    if (row.payment.amount !== row.amount) return `payment amount ${row.payment.amount} ≠ ${row.amount}`;
    if (row.payment.status === "PAID" && row.rental !== "READY") return `paid but rental ${row.rental}`;
    if (row.payment.status === "REQUESTED" && row.rental !== null) return `unpaid but rental ${row.rental}`;
  }
  if (!row.view) return "no read-model row";
  if (row.view.paymentStatus !== (row.payment?.status ?? null)) return `view paymentStatus ${row.view.paymentStatus} ≠ ${row.payment?.status}`;
  if (row.view.rentalStatus !== row.rental) return `view rentalStatus ${row.view.rentalStatus} ≠ ${row.rental}`;
  const expected = overallStatus(row.reservation as never, row.payment?.status ?? null, row.rental);
  if (row.view.status !== expected) return `view status ${row.view.status} ≠ ${expected}`;
  return undefined;
}

/**
 * Waits (at most `timeoutMs`) until every reservation agrees across the three databases
 * and the read model; resolves with the rows and how long it took.
 * @throws Error listing up to five disagreeing reservations when time runs out.
 */
export async function waitForAgreement(stack: BenchStack, timeoutMs: number, signal?: AbortSignal): Promise<{ rows: SagaRow[]; settledMs: number }> {
  const t0 = performance.now();
  let last: SagaRow[] = [];
  try {
    await waitFor("the databases and the read model to agree", async () => {
      last = await sagaRows(stack);
      return last.every((row) => !disagreement(row));
    }, timeoutMs, signal, 250);
  } catch (error) {
    const bad = last.filter((row) => disagreement(row)).slice(0, 5).map((row) => ({ ...row, why: disagreement(row) }));
    throw new Error(`${(error as Error).message}; ${last.filter((r) => disagreement(r)).length} of ${last.length} disagree, e.g. ${JSON.stringify(bad)}`);
  }
  return { rows: last, settledMs: performance.now() - t0 };
}
