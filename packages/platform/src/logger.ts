import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logger (pino) tagged with the service name. Request handlers
 * derive children carrying `requestId`, and `reservationId` wherever a line concerns one.
 * Writes synchronously to stdout so the last lines before `process.exit` are never lost.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, pino.destination({ dest: 1, sync: true }));
}
