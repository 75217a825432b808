import { createEvent, inboxInsertSql, recordInInbox, outboxInsertSql, type DomainEvent, type EventType, type SqlClient, type TransactionalClient } from "@rentcar/events";
import type { Reservation } from "./generated/prisma/client.ts";
import { iso, RESERVATION_COLUMNS, Statement } from "./sql.ts";

/** Any connection inside a transaction: plain SQL (the hot path) or a Prisma transaction client. */
type Tx = SqlClient;

// Statuses only move forward, so an older event can never overwrite a newer state.
const PAYMENT_RANK: Record<string, number> = { REQUESTED: 1, PAID: 2, REFUNDED: 3, CANCELLED: 3 };
const RENTAL_RANK: Record<string, number> = { READY: 1, PICKED_UP: 2, RETURNED: 3, CANCELLED: 3 };

function advance(current: string | null, next: string | undefined, rank: Record<string, number>): string | null {
  if (!next) return current;
  if (!current) return next;
  return (rank[next] ?? 0) > (rank[current] ?? 0) ? next : current;
}

/**
 * Completes what a later stage implies, whatever order the events arrived in: a
 * COMPLETED reservation had its car RETURNED, and a rental that is READY, PICKED_UP or
 * RETURNED exists only because the payment is PAID. So a row never shows a stage
 * without its predecessors (e.g. READY with payment REQUESTED).
 */
export function impliedStatuses(reservationStatus: Reservation["status"], payment: string | null, rental: string | null) {
  const rentalStatus = reservationStatus === "COMPLETED" ? advance(rental, "RETURNED", RENTAL_RANK) : rental;
  const paid = rentalStatus === "READY" || rentalStatus === "PICKED_UP" || rentalStatus === "RETURNED";
  return { paymentStatus: paid ? advance(payment, "PAID", PAYMENT_RANK) : payment, rentalStatus };
}

/**
 * The customer-facing stage of a reservation, from its own status and the payment and
 * rental statuses it has heard of: CANCELLED > RETURNED > PICKED_UP > READY > PAID >
 * PAYMENT_DELAYED > RESERVED.
 */
export function overallStatus(reservationStatus: Reservation["status"], payment: string | null, rental: string | null): string {
  if (reservationStatus === "CANCELLED" || rental === "CANCELLED") return "CANCELLED";
  if (reservationStatus === "COMPLETED" || rental === "RETURNED") return "RETURNED";
  if (rental === "PICKED_UP") return "PICKED_UP";
  if (rental === "READY") return "READY";
  if (payment === "PAID") return "PAID";
  if (reservationStatus === "PAYMENT_DELAYED") return "PAYMENT_DELAYED";
  return "RESERVED";
}

/** What a write or an event tells the projection about one reservation. */
export interface ProjectionChange {
  paymentStatus?: string;
  rentalStatus?: string;
}

/** Reservation columns a projected write may change together with the view (set only when they differ). */
export type ReservationPatch = Partial<Pick<Reservation, "status" | "paymentId" | "paidAt" | "pickedUpAt" | "cancellationReason">>;

/** What {@link project} does besides advancing the view. */
export interface ProjectOptions {
  /** Statuses the event or write reports (only ever advance the row). */
  change?: ProjectionChange;
  /**
   * Changes to the reservation itself, decided on its locked, current row (return only what
   * differs, or null): written in the same statement as the view, so an event costs one
   * locking read and one write.
   */
  patch?(reservation: Reservation): ReservationPatch | null;
  /** Deletes this outbox event if it is still unpublished (a background step that is no longer needed). */
  withdrawEventId?: string;
  /** Makes this unpublished outbox event due now (a background step that is needed after all, without its grace period). */
  releaseEventId?: string;
  /**
   * False when the view row most likely does not exist yet (the reservation's first version):
   * skips the read that locks an existing row and goes straight to locking the reservation.
   */
  viewExists?: boolean;
}

/** The view row's fields that a version changes. */
export interface ViewRow {
  status: string;
  paymentStatus: string | null;
  rentalStatus: string | null;
  cancellationReason: string | null;
  version: number;
}

/** Result of {@link project}: the reservation as now written, and the view version written (null when the view did not change). */
export interface Projected {
  reservation: Reservation;
  view: (ViewRow & { updatedAt: Date }) | null;
}

const VIEW_COLUMNS = `m.status AS "viewStatus", m.payment_status AS "viewPaymentStatus", m.rental_status AS "viewRentalStatus",
  m.cancellation_reason AS "viewCancellationReason", m.version AS "viewVersion"`;

type LockedRow = Reservation & { viewStatus: string | null; viewPaymentStatus: string | null; viewRentalStatus: string | null; viewCancellationReason: string | null; viewVersion: number | null };

/**
 * Locks the reservation row and reads its view row as committed after that lock.
 *
 * Locking protocol: whoever writes `my_reservation` first locks the `reservation` row (and
 * then the view row), so the writers of one reservation's view are serialised and each
 * reads the version its predecessor committed. With a view row, one statement locks both
 * (rows locked FOR UPDATE are re-read at their latest committed version). Without one, the
 * join returns nothing and locks nothing: the reservation is then locked alone and the view
 * read in a new statement, i.e. with a snapshot taken after the lock, so a first version
 * written concurrently is seen, never written twice.
 * @returns null when the reservation does not exist.
 */
async function lockForProjection(tx: Tx, reservationId: string, viewExists: boolean): Promise<{ reservation: Reservation; view: ViewRow | null } | null> {
  if (viewExists) {
    const [row] = await tx.$queryRawUnsafe<LockedRow[]>(
      `SELECT ${RESERVATION_COLUMNS}, ${VIEW_COLUMNS} FROM reservation r JOIN my_reservation m ON m.reservation_id = r.id
        WHERE r.id = $1::uuid FOR NO KEY UPDATE OF r, m`, reservationId);
    if (row) {
      const { viewStatus, viewPaymentStatus, viewRentalStatus, viewCancellationReason, viewVersion, ...reservation } = row;
      return {
        reservation,
        view: { status: viewStatus!, paymentStatus: viewPaymentStatus, rentalStatus: viewRentalStatus, cancellationReason: viewCancellationReason, version: viewVersion! },
      };
    }
  }
  const [reservation] = await tx.$queryRawUnsafe<Reservation[]>(
    `SELECT ${RESERVATION_COLUMNS} FROM reservation r WHERE r.id = $1::uuid FOR NO KEY UPDATE`, reservationId);
  if (!reservation) return null;
  const [view] = await tx.$queryRawUnsafe<ViewRow[]>(
    `SELECT status, payment_status AS "paymentStatus", rental_status AS "rentalStatus", cancellation_reason AS "cancellationReason", version
       FROM my_reservation WHERE reservation_id = $1::uuid`, reservationId);
  return { reservation, view: view ?? null };
}

/** The next view row of `reservation`, or null when `current` already says the same. */
function nextView(reservation: Reservation, current: ViewRow | null, change: ProjectionChange): ViewRow | null {
  const { paymentStatus, rentalStatus } = impliedStatuses(reservation.status,
    advance(current?.paymentStatus ?? null, change.paymentStatus, PAYMENT_RANK),
    advance(current?.rentalStatus ?? null, change.rentalStatus, RENTAL_RANK));
  const status = overallStatus(reservation.status, paymentStatus, rentalStatus);
  const cancellationReason = status === "CANCELLED" ? (reservation.cancellationReason ?? null) : null;
  if (current && current.status === status && current.paymentStatus === paymentStatus && current.rentalStatus === rentalStatus
    && current.cancellationReason === cancellationReason) return null;
  return { status, paymentStatus, rentalStatus, cancellationReason, version: (current?.version ?? 0) + 1 };
}

/** `patch` without the fields that already have that value (null when nothing is left). */
function effectivePatch(reservation: Reservation, patch: ReservationPatch | null | undefined): ReservationPatch | null {
  if (!patch) return null;
  const same = (a: unknown, b: unknown) => (a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b);
  const entries = Object.entries(patch).filter(([key, value]) => value !== undefined && !same(reservation[key as keyof Reservation], value));
  return entries.length > 0 ? Object.fromEntries(entries) as ReservationPatch : null;
}

/** `SET` assignments of a reservation patch (typed casts per column). */
function patchAssignments(patch: ReservationPatch, bind: Statement["bind"]): string[] {
  const sets: string[] = [];
  if (patch.status !== undefined) sets.push(`status = ${bind(patch.status)}::"ReservationStatus"`);
  if (patch.cancellationReason !== undefined) sets.push(`cancellation_reason = ${bind(patch.cancellationReason)}::"CancellationReason"`);
  if (patch.paymentId !== undefined) sets.push(`payment_id = ${bind(patch.paymentId)}::uuid`);
  if (patch.paidAt !== undefined) sets.push(`paid_at = ${bind(iso(patch.paidAt))}::timestamptz`);
  if (patch.pickedUpAt !== undefined) sets.push(`picked_up_at = ${bind(iso(patch.pickedUpAt))}::timestamptz`);
  return sets;
}

/**
 * Applies a write or an event to one reservation and its "my reservations" row, inside the
 * caller's transaction: the reservation is locked (see the locking protocol above), the
 * optional `patch` is applied to it, the view's statuses only advance, and only a real
 * change bumps `version` and emits MyReservationChanged (through the outbox, so it is
 * broadcast after commit). Everything is written in one statement. Applying the same change
 * twice has one effect.
 * @returns the reservation and the view version written; null when the reservation is unknown.
 */
export async function project(tx: Tx, reservationId: string, options: ProjectOptions = {}): Promise<Projected | null> {
  const locked = await lockForProjection(tx, reservationId, options.viewExists ?? true);
  if (!locked) return null;
  const patch = effectivePatch(locked.reservation, options.patch?.(locked.reservation));
  const now = new Date();
  const reservation: Reservation = patch ? { ...locked.reservation, ...patch, updatedAt: now } : locked.reservation;
  const view = nextView(reservation, locked.view, options.change ?? {});
  const statement = new Statement();
  const writes = changeWrites(statement.bind, reservation, patch, view, now, options);
  if (writes.length > 0) {
    // Data-modifying WITH clauses all run, to completion, whether or not the final SELECT reads them.
    await tx.$executeRawUnsafe(`WITH ${writes.map((sql, i) => `w${i} AS (${sql})`).join(",\n")} SELECT 1`, ...statement.values);
  }
  return { reservation, view: view ? { ...view, updatedAt: now } : null };
}

/**
 * The statements (for one data-modifying WITH) that write a projected change: the reservation
 * patch, the outbox withdraw/release, the view row and its MyReservationChanged; each only
 * `when` a condition holds (e.g. the event was recorded in the inbox), if given.
 */
function changeWrites(bind: Statement["bind"], reservation: Reservation, patch: ReservationPatch | null, view: ViewRow | null, now: Date,
  options: Pick<ProjectOptions, "withdrawEventId" | "releaseEventId">, when?: string): string[] {
  const and = when ? ` AND ${when}` : "";
  const writes: string[] = [];
  if (patch) {
    writes.push(`UPDATE reservation SET ${patchAssignments(patch, bind).join(", ")}, updated_at = ${bind(iso(now))}::timestamptz
      WHERE id = ${bind(reservation.id)}::uuid${and}`);
  }
  if (options.withdrawEventId) {
    writes.push(`DELETE FROM outbox_event WHERE id = ${bind(options.withdrawEventId)}::uuid AND published_at IS NULL${and}`);
  }
  if (options.releaseEventId) {
    writes.push(`UPDATE outbox_event SET available_at = now() WHERE id = ${bind(options.releaseEventId)}::uuid AND published_at IS NULL${and}`);
  }
  if (view) {
    writes.push(`${viewInsertSql(bind, reservation, view, now, when)}
      ON CONFLICT (reservation_id) DO UPDATE SET status = EXCLUDED.status, payment_status = EXCLUDED.payment_status,
        rental_status = EXCLUDED.rental_status, cancellation_reason = EXCLUDED.cancellation_reason, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`);
    writes.push(outboxInsertSql(bind, [viewChanged(reservation, view, now)], when ? { when } : {}));
  }
  return writes;
}

/** Optimistic attempts of {@link projectEvent} before it takes the locking path. */
const OPTIMISTIC_ATTEMPTS = 3;

/** What {@link projectEvent} read: the reservation, its view row and the row versions the write is guarded by. */
interface EventRead {
  reservation: Reservation;
  view: ViewRow;
  /** The reservation row's `xmin`: changes with every update of the row. */
  rowVersion: string;
}

/**
 * Applies an event to one reservation and its view exactly once, in two autocommit round trips
 * instead of a transaction's five (BEGIN, inbox, lock, write, COMMIT): an unlocked read, then one
 * statement that locks the reservation and view rows only if neither changed since (the
 * reservation's `xmin`, the view's `version`; PostgreSQL re-checks both on the newest row versions
 * after waiting for a lock), records the event in `inbox_event`, and writes the change only if
 * that insert happened. A row changed in between means another writer won: read and try again
 * (OPTIMISTIC_ATTEMPTS), then take the locking path ({@link project} in a transaction). An
 * unknown reservation or one without a view row also takes the locking path. Both paths lock
 * the reservation before they write the inbox row (no deadlock between duplicate deliveries).
 * Same effects as `applyEvent` with a handler calling {@link project}.
 * @returns false when the event had already been applied.
 */
export async function projectEvent<T extends EventType>(db: Tx & TransactionalClient<Tx>, event: DomainEvent<T>, options: ProjectOptions): Promise<boolean> {
  for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
    const read = await readForEvent(db, event);
    if (read === "applied") return false;
    if (!read) break;
    const outcome = await writeIfUnchanged(db, event, read, options);
    if (outcome !== "changed") return outcome === "applied";
  }
  // The reservation is locked before the inbox row is written, in the order of the optimistic
  // statement above: a duplicate delivery on the other path cannot deadlock with this one.
  return db.$transaction(async (tx) => {
    await tx.$queryRawUnsafe(`SELECT 1 FROM reservation WHERE id = $1::uuid FOR NO KEY UPDATE`, event.reservationId);
    if (!(await recordInInbox(tx, event))) return false;
    await project(tx, event.reservationId, options);
    return true;
  });
}

async function readForEvent(db: Tx, event: { reservationId: string; eventId: string }): Promise<EventRead | "applied" | null> {
  const [row] = await db.$queryRawUnsafe<(LockedRow & { rowVersion: string; seen: boolean })[]>(
    `SELECT ${RESERVATION_COLUMNS}, ${VIEW_COLUMNS}, r.xmin::text AS "rowVersion",
            EXISTS (SELECT 1 FROM inbox_event WHERE event_id = $2::uuid) AS seen
       FROM reservation r LEFT JOIN my_reservation m ON m.reservation_id = r.id WHERE r.id = $1::uuid`, event.reservationId, event.eventId);
  if (row?.seen) return "applied";
  if (!row || row.viewVersion === null) return null;
  const { viewStatus, viewPaymentStatus, viewRentalStatus, viewCancellationReason, viewVersion, rowVersion, seen: _, ...reservation } = row;
  return {
    reservation,
    rowVersion,
    view: { status: viewStatus!, paymentStatus: viewPaymentStatus, rentalStatus: viewRentalStatus, cancellationReason: viewCancellationReason, version: viewVersion },
  };
}

/** @returns "applied", "duplicate" (recorded meanwhile by another delivery) or "changed" (nothing written: read again). */
async function writeIfUnchanged(db: Tx, event: Pick<DomainEvent, "eventId" | "type">, read: EventRead, options: ProjectOptions): Promise<"applied" | "duplicate" | "changed"> {
  const patch = effectivePatch(read.reservation, options.patch?.(read.reservation));
  const now = new Date();
  const reservation: Reservation = patch ? { ...read.reservation, ...patch, updatedAt: now } : read.reservation;
  const view = nextView(reservation, read.view, options.change ?? {});
  const statement = new Statement();
  const { bind } = statement;
  const writes = changeWrites(bind, reservation, patch, view, now, options, "EXISTS (SELECT 1 FROM inbox)");
  const [row] = await db.$queryRawUnsafe<{ unchanged: number; recorded: number }[]>(
    `WITH guard AS (
       SELECT 1 FROM reservation r JOIN my_reservation m ON m.reservation_id = r.id
        WHERE r.id = ${bind(reservation.id)}::uuid AND r.xmin = ${bind(read.rowVersion)}::xid AND m.version = ${bind(read.view.version)}::int
        FOR NO KEY UPDATE OF r, m),
     inbox AS (${inboxInsertSql(bind, event, { when: "EXISTS (SELECT 1 FROM guard)" })})${writes.map((sql, i) => `,\n     w${i} AS (${sql})`).join("")}
     SELECT (SELECT count(*)::int FROM guard) AS unchanged, (SELECT count(*)::int FROM inbox) AS recorded`, ...statement.values);
  if (!row?.unchanged) return "changed";
  return row.recorded ? "applied" : "duplicate";
}

/** `INSERT INTO my_reservation … SELECT` of one view row (the caller adds its conflict clause), optionally only `when` a condition holds. */
function viewInsertSql(bind: Statement["bind"], reservation: Reservation, view: ViewRow, now: Date, when?: string): string {
  return `INSERT INTO my_reservation (reservation_id, customer_id, car_id, status, payment_status, rental_status, cancellation_reason, version, created_at, updated_at)
    SELECT ${bind(reservation.id)}::uuid, ${bind(reservation.customerId)}, ${bind(reservation.carId)}, ${bind(view.status)}, ${bind(view.paymentStatus)},
      ${bind(view.rentalStatus)}, ${bind(view.cancellationReason)}, ${bind(view.version)}::int, ${bind(iso(reservation.createdAt))}::timestamptz, ${bind(iso(now))}::timestamptz
    ${when ? `WHERE ${when}` : ""}`;
}

/**
 * reserveCar's second step in one autocommit statement (no BEGIN/COMMIT round trips): records
 * the registered `paymentId` on the RESERVED reservation it just inserted, withdraws the
 * background registration event (`withdrawEventId`, if still unpublished) and writes the view's
 * first version (RESERVED, payment REQUESTED: the same rules as {@link project}) with its
 * MyReservationChanged. Safe beside every other writer of the view: the UPDATE takes the
 * reservation's row lock first (the locking protocol above), and it only matches while the
 * reservation is RESERVED without a payment id; the view row is only inserted when none exists
 * (ON CONFLICT DO NOTHING also sees one committed while this statement waited for the lock).
 * @returns the reservation as now written, or null when any of that did not hold (another
 *   writer got there first): the caller then runs the general {@link project}.
 */
export async function writeFirstVersion(db: SqlClient, reservation: Reservation, paymentId: string, withdrawEventId: string): Promise<Reservation | null> {
  if (reservation.status !== "RESERVED" || reservation.paymentId) return null;
  const now = new Date();
  const written: Reservation = { ...reservation, paymentId, updatedAt: now };
  const view = nextView(written, null, { paymentStatus: "REQUESTED" })!;
  const statement = new Statement();
  const { bind } = statement;
  const [row] = await db.$queryRawUnsafe<{ written: number }[]>(
    `WITH patched AS (
       UPDATE reservation SET payment_id = ${bind(paymentId)}::uuid, updated_at = ${bind(iso(now))}::timestamptz
        WHERE id = ${bind(reservation.id)}::uuid AND status = 'RESERVED' AND payment_id IS NULL
       RETURNING id),
     withdrawn AS (DELETE FROM outbox_event WHERE id = ${bind(withdrawEventId)}::uuid AND published_at IS NULL),
     viewed AS (${viewInsertSql(bind, written, view, now, "EXISTS (SELECT 1 FROM patched)")}
       ON CONFLICT (reservation_id) DO NOTHING RETURNING version),
     changed AS (${outboxInsertSql(bind, [viewChanged(written, view, now)], { when: "EXISTS (SELECT 1 FROM viewed)" })})
     SELECT count(*)::int AS written FROM viewed`, ...statement.values);
  return row?.written === 1 ? written : null;
}

function viewChanged(reservation: Reservation, view: ViewRow, updatedAt: Date): DomainEvent<"MyReservationChanged"> {
  return createEvent("MyReservationChanged", { reservationId: reservation.id, customerId: reservation.customerId }, {
    carId: reservation.carId,
    status: view.status,
    paymentStatus: view.paymentStatus,
    rentalStatus: view.rentalStatus,
    cancellationReason: view.cancellationReason,
    version: view.version,
    updatedAt: updatedAt.toISOString(),
  });
}
