import { createHmac } from "node:crypto";
import type { Logger } from "pino";
import { badUserInput } from "./errors.ts";
import { startPeriodicTask, type PeriodicTask } from "./periodic-task.ts";
import { deleteOlderThan, type SqlClient, type TransactionalClient } from "./sql-client.ts";

/**
 * HTTP header with which a client makes a mutation safe to retry (`Idempotency-Key: <uuid>`).
 * The router forwards it unchanged to the subgraphs; `idempotency_key` rows (same table in the
 * reservation and payment databases) remember what each key did.
 */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";

/** 1-255 visible ASCII characters; a fresh UUID per logical request is the usual choice. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** One keyed mutation call. */
export interface IdempotentRequest {
  /** Keys are scoped per customer: two customers may use the same key independently. */
  customerId: string;
  /** The `Idempotency-Key` header; `undefined` runs the write without idempotency. */
  key: string | undefined;
  /** The mutation, e.g. `reserveCar`; part of the fingerprint (one key names one mutation). */
  operation: string;
  /** The mutation's input, normalised (instants as UTC ISO strings) so equal requests compare equal. */
  input: Record<string, unknown>;
  /**
   * Id of the entity the write will produce, when the caller knows it beforehand (e.g. a
   * UUID it generates): stored with the claim, which saves the statement that records it
   * after the write. `resultIdOf` must then return the same id.
   */
  resultId?: string;
}

/** The write ran now (`result`), or the key had already run it (`resultId` of the first result). */
export type IdempotentOutcome<R> = { replayed: false; result: R } | { replayed: true; resultId: string };

export interface IdempotencyOptions {
  /** Keys the fingerprint HMAC, so stored fingerprints reveal nothing about inputs (card numbers). */
  secret: string;
  /** Fault injection for tests: called with the operation right after a write committed, before anything else happens. */
  afterCommit?(operation: string): void;
}

/** Runs mutations at most once per (customer, key). Create one per service with {@link createIdempotency}. */
export interface Idempotency {
  /**
   * Runs `write` in a transaction that also claims the key: the key row and the write commit
   * together or not at all, so a process that dies after the commit still left the key behind,
   * and a failed write (any error) leaves no key, so retrying it runs it again. A concurrent
   * request with the same key waits on the key's unique index until the first commits, then
   * replays; two requests with one key never both write.
   * @param resultIdOf the id of the entity the write produced, stored as the key's result.
   * @param options.directWhenNoKey without a key, run `write` straight on this client instead of in
   *   a transaction (BEGIN and COMMIT are two round trips): only for a write that is atomic on its
   *   own, i.e. changes state in one statement and decides nothing from an earlier read that a
   *   concurrent writer could invalidate.
   * @throws BAD_USER_INPUT when the key is malformed, or was used for a different operation or input.
   */
  run<Tx extends SqlClient, R>(
    db: TransactionalClient<Tx>,
    request: IdempotentRequest,
    write: (tx: Tx) => Promise<R>,
    resultIdOf: (result: R) => string,
    options?: { directWhenNoKey?: Tx },
  ): Promise<IdempotentOutcome<R>>;
}

/** Canonical JSON (sorted keys, instants as ISO strings): equal inputs give equal text. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** @throws BAD_USER_INPUT for a key that is empty, too long or not visible ASCII (never echoed back). */
export function parseIdempotencyKey(key: string): string {
  if (!KEY_PATTERN.test(key)) {
    throw badUserInput("Idempotency-Key must be 1-255 visible ASCII characters, e.g. a UUID", { field: "Idempotency-Key" });
  }
  return key;
}

interface KeyRow {
  operation: string;
  fingerprint: string;
  result_id: string | null;
}

/** Creates the idempotency runner of a service (see {@link Idempotency.run}). */
export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const fingerprintOf = (request: IdempotentRequest) =>
    createHmac("sha256", options.secret).update(`${request.operation}\n${canonicalJson(request.input)}`).digest("hex");

  return {
    async run(db, request, write, resultIdOf, runOptions) {
      const key = request.key === undefined ? undefined : parseIdempotencyKey(request.key);
      const fingerprint = key === undefined ? "" : fingerprintOf(request);
      const direct = key === undefined ? runOptions?.directWhenNoKey : undefined;
      if (direct) {
        const result = await write(direct);
        options.afterCommit?.(request.operation);
        return { replayed: false as const, result };
      }
      const outcome = await db.$transaction(async (tx) => {
        if (key !== undefined) {
          // ON CONFLICT DO NOTHING waits for a concurrent holder of the key to commit or roll back.
          const claimed = await tx.$executeRawUnsafe(
            `INSERT INTO idempotency_key (customer_id, key, operation, fingerprint, result_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            request.customerId, key, request.operation, fingerprint, request.resultId ?? null,
          );
          if (claimed === 0) return replay(tx, request.customerId, key, fingerprint);
        }
        const result = await write(tx);
        if (request.resultId !== undefined && resultIdOf(result) !== request.resultId) {
          throw new Error(`idempotent write produced ${resultIdOf(result)}, not the announced ${request.resultId}`);
        }
        if (key !== undefined && request.resultId === undefined) {
          await tx.$executeRawUnsafe(
            `UPDATE idempotency_key SET result_id = $3 WHERE customer_id = $1 AND key = $2`,
            request.customerId, key, resultIdOf(result),
          );
        }
        return { replayed: false as const, result };
      });
      if (!outcome.replayed) options.afterCommit?.(request.operation);
      return outcome;
    },
  };
}

async function replay(tx: SqlClient, customerId: string, key: string, fingerprint: string): Promise<{ replayed: true; resultId: string }> {
  const [row] = await tx.$queryRawUnsafe<KeyRow[]>(
    `SELECT operation, fingerprint, result_id FROM idempotency_key WHERE customer_id = $1 AND key = $2`,
    customerId, key,
  );
  if (!row?.result_id) throw new Error("idempotency key row vanished or has no result: it is written in one transaction with its result");
  if (row.fingerprint !== fingerprint) {
    throw badUserInput(`this Idempotency-Key was already used for a different request (${row.operation}); use a new key for a new request`, {
      field: "Idempotency-Key",
    });
  }
  return { replayed: true, resultId: row.result_id };
}

/**
 * Deletes keys older than `retentionMs`, in batches of `batchSize` (short transactions).
 * @returns how many keys were deleted.
 */
export async function pruneIdempotencyKeys(db: SqlClient, retentionMs: number, batchSize = 1_000): Promise<number> {
  return deleteOlderThan(db, "idempotency_key", "created_at", retentionMs, batchSize);
}

/** Prunes expired idempotency keys every `intervalMs` (keys live at least `retentionMs`). */
export function startIdempotencyPruner(options: { db: SqlClient; retentionMs: number; intervalMs: number; log: Logger }): PeriodicTask {
  return startPeriodicTask({
    name: "idempotency-key-pruner",
    intervalMs: options.intervalMs,
    log: options.log,
    run: async () => {
      const deleted = await pruneIdempotencyKeys(options.db, options.retentionMs);
      if (deleted > 0) options.log.info({ deleted }, "expired idempotency keys pruned");
    },
  });
}
