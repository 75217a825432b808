import { appendToOutbox, createEvent } from "@rentcar/events";
import { INTERNAL_TOKEN_HEADER, ISSUER, signInternalToken } from "@rentcar/platform";
import type { PrismaClient } from "./generated/prisma/client.ts";
import { overallStatus } from "./my-reservations.ts";

export interface RebuildSources {
  /** GraphQL URLs of the subgraphs owning the payment and rental statuses. */
  paymentUrl: string;
  rentalUrl: string;
  internalSecret: string;
}

const BATCH = 200;
/** How long one subgraph call may take, in ms. */
const CALL_TIMEOUT_MS = 10_000;

/** Asks a subgraph for `Reservation.<field> { status }` of many reservations in one `_entities` call. */
async function statusesFrom(url: string, field: "payment" | "rental", ids: string[], secret: string): Promise<Map<string, string | null>> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    method: "POST",
    headers: { "content-type": "application/json", [INTERNAL_TOKEN_HEADER]: await signInternalToken(secret, { issuer: ISSUER.projectionRebuild }) },
    body: JSON.stringify({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Reservation { id ${field} { status } } } }`,
      variables: { r: ids.map((id) => ({ __typename: "Reservation", id })) },
    }),
  }).catch((error: Error) => {
    throw new Error(`${field} subgraph at ${url}: ${error.name === "TimeoutError" ? `no answer within ${CALL_TIMEOUT_MS} ms` : error.message}`);
  });
  const body = (await response.json()) as { data?: { _entities: ({ id: string } & Record<string, { status: string } | null>)[] }; errors?: { message: string }[] };
  if (!body.data) throw new Error(`${field} subgraph: ${body.errors?.map((e) => e.message).join("; ") ?? response.status}`);
  return new Map(body.data._entities.map((e) => [e.id, e[field]?.status ?? null]));
}

/**
 * Rebuilds the "my reservations" projection from the owning subgraphs' data: reservations
 * from this database, payment and rental statuses from their subgraphs. A row is written
 * (version + 1, MyReservationChanged emitted) only when it differs, so rebuilding twice,
 * or rebuilding a projection that events kept correct, changes nothing.
 * @returns how many reservations were checked and how many rows changed.
 */
export async function rebuildProjection(db: PrismaClient, sources: RebuildSources): Promise<{ checked: number; changed: number }> {
  let checked = 0;
  let changed = 0;
  let cursor: string | undefined;
  for (;;) {
    const reservations = await db.reservation.findMany({ orderBy: { id: "asc" }, take: BATCH, ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}) });
    if (reservations.length === 0) break;
    cursor = reservations.at(-1)!.id;
    const ids = reservations.map((r) => r.id);
    const [payments, rentals] = await Promise.all([
      statusesFrom(sources.paymentUrl, "payment", ids, sources.internalSecret),
      statusesFrom(sources.rentalUrl, "rental", ids, sources.internalSecret),
    ]);
    for (const reservation of reservations) {
      checked++;
      const paymentStatus = payments.get(reservation.id) ?? null;
      const rentalStatus = rentals.get(reservation.id) ?? null;
      const status = overallStatus(reservation.status, paymentStatus, rentalStatus);
      const wrote = await db.$transaction(async (tx) => {
        // The view's locking protocol (my-reservations.ts): the reservation row first, then read the view.
        await tx.$queryRawUnsafe(`SELECT 1 FROM reservation WHERE id = $1::uuid FOR NO KEY UPDATE`, reservation.id);
        const row = await tx.myReservation.findUnique({ where: { reservationId: reservation.id } });
        const cancellationReason = status === "CANCELLED" ? (reservation.cancellationReason ?? null) : null;
        if (row && row.status === status && row.paymentStatus === paymentStatus && row.rentalStatus === rentalStatus
          && row.cancellationReason === cancellationReason) return false;
        const fields = { status, paymentStatus, rentalStatus, cancellationReason, version: (row?.version ?? 0) + 1, updatedAt: new Date() };
        const updated = await tx.myReservation.upsert({
          where: { reservationId: reservation.id },
          create: { reservationId: reservation.id, customerId: reservation.customerId, carId: reservation.carId, createdAt: reservation.createdAt, ...fields },
          update: fields,
        });
        await appendToOutbox(tx, createEvent("MyReservationChanged", { reservationId: reservation.id, customerId: reservation.customerId }, {
          carId: updated.carId, status, paymentStatus, rentalStatus, cancellationReason, version: updated.version, updatedAt: updated.updatedAt.toISOString(),
        }));
        return true;
      });
      if (wrote) changed++;
    }
  }
  return { checked, changed };
}
