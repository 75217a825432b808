import { prettyFactory } from "pino-pretty";

const prettify = prettyFactory({ colorize: process.stdout.isTTY, translateTime: "HH:MM:ss.l", ignore: "pid,hostname,service", singleLine: true });

/**
 * Formats one line of a service's output for the terminal: pino JSON becomes a
 * readable line, anything else passes through; every line gets a `[service]` prefix.
 */
export function formatServiceLine(service: string, line: string): string {
  const text = line.startsWith("{") ? prettify(line).trimEnd() : line;
  return `[${service.padEnd(11)}] ${text}`;
}
