import { randomUUID } from "node:crypto";

/** Header carrying the request id from client to router and from router to subgraphs. */
export const REQUEST_ID_HEADER = "x-request-id";

// 8-128 visible characters from a conservative set: a UUID, a ULID, a trace id or a
// "client-1234" style id fit; anything that could forge a log line (newlines, quotes,
// JSON, control characters) or flood it (kilobytes) does not.
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

/**
 * The request id to log and forward: the caller's `x-request-id` when well-formed
 * (so a client or load balancer can correlate), otherwise a fresh UUID. A client never
 * decides what lands in our logs beyond that narrow shape.
 */
export function acceptRequestId(header: string | string[] | undefined | null): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && WELL_FORMED.test(value) ? value : randomUUID();
}
