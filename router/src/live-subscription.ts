import { compareEntryIds } from "@rentcar/events";
import { serviceUnavailable } from "@rentcar/platform";
import type { ExecutionResult } from "graphql";
import type { ChangeEntry, ChangeHub } from "./change-hub.ts";
import type { LiveResolver, LiveSelection } from "./live-resolution.ts";

/** Close code for a client that does not read fast enough: it reconnects and resumes with its last cursor. */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

export interface LiveSubscriptionOptions {
  hub: ChangeHub;
  resolver: LiveResolver;
  selection: LiveSelection;
  customerId: string;
  /** Only this reservation's changes (the subscription's `reservationId`). */
  reservationId: string | undefined;
  /** Entry id to resume after (decoded `after` cursor); undefined: from now on. */
  after: string | undefined;
  /** Live changes buffered before the client is considered too slow. */
  bufferLimit: number;
  /** Called once the client fell `bufferLimit` changes behind: close its socket with SLOW_CONSUMER_CLOSE_CODE. */
  onSlow(): void;
  /** Called exactly once when the subscription ends, however it ends. */
  onRelease(): void;
}

/**
 * One `myReservationChanged` subscription as an async iterator (graphql-ws pulls
 * `next()` as fast as the socket accepts messages and calls `return()` when the client
 * completes or disconnects).
 *
 * Order and seam: it starts listening to the hub first, which gives the position P from
 * which live entries reach it; with `after` = C it first reads (C, P] from the log, then
 * the buffered live entries (all after P). Every entry at or before the last delivered
 * position is skipped, so nothing is delivered twice and nothing between C and the live
 * tail is missed.
 *
 * `return()` releases everything at once (hub listener, buffer, a pending `next()`), not
 * at the next change. A client too slow to keep up is disconnected instead of silently
 * losing changes.
 */
export class LiveSubscription implements AsyncIterableIterator<ExecutionResult> {
  private readonly live: ChangeEntry[] = [];
  private replay: ChangeEntry[] = [];
  /** Next replay page starts after this id; undefined once the replay is done. */
  private replayAfter: string | undefined;
  private replayUntil = "0-0";
  /** Last entry id delivered or skipped. */
  private position: string | undefined;
  private wake: (() => void) | undefined;
  private released = false;
  private readonly stopListening: () => void;
  private readonly started: Promise<void>;

  private readonly o: LiveSubscriptionOptions;

  constructor(o: LiveSubscriptionOptions) {
    this.o = o;
    const listening = o.hub.listen(o.customerId, (entry) => this.push(entry));
    this.stopListening = listening.stop;
    this.started = listening.position.then((position) => {
      if (o.after === undefined) {
        this.position = position;
      } else {
        this.position = o.after;
        this.replayAfter = o.after;
        this.replayUntil = position;
      }
    });
    this.started.catch(() => {});
  }

  private push(entry: ChangeEntry): void {
    if (this.released) return;
    if (this.live.length >= this.o.bufferLimit) {
      this.release();
      this.o.onSlow();
      return;
    }
    this.live.push(entry);
    this.wake?.();
  }

  /** The next entry in log order, or undefined once released. */
  private async nextEntry(): Promise<ChangeEntry | undefined> {
    await this.started;
    for (;;) {
      if (this.released) return undefined;
      const replayed = this.replay.shift();
      if (replayed) return replayed;
      if (this.replayAfter !== undefined) {
        const page = await this.o.hub.readRange(this.o.customerId, this.replayAfter, this.replayUntil);
        this.replay = page.entries;
        this.replayAfter = page.more ? page.lastId : undefined;
        continue;
      }
      const live = this.live.shift();
      if (live) return live;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    for (;;) {
      let entry: ChangeEntry | undefined;
      try {
        entry = await this.nextEntry();
      } catch {
        // Redis did not answer (logged by the hub): end with a retryable error, the client resumes with its cursor.
        this.release();
        throw serviceUnavailable("live updates are unavailable right now; resubscribe with your last cursor", { service: "change-log" });
      }
      if (!entry) return { value: undefined, done: true };
      if (this.position !== undefined && compareEntryIds(entry.id, this.position) <= 0) continue;
      this.position = entry.id;
      if (this.o.reservationId && entry.event.reservationId !== this.o.reservationId) continue;
      const message = await this.o.resolver.resolve(entry, this.o.selection);
      if (this.released) return { value: undefined, done: true };
      return { value: message, done: false };
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.release();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.stopListening();
    this.live.length = 0;
    this.replay = [];
    this.wake?.();
    this.o.onRelease();
  }
}
