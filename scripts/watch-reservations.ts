/**
 * `npm run -s watch -- <customerId> [reservationId]`: subscribes to myReservationChanged
 * through the router (graphql-ws) and prints every change live. The router URL and the
 * token secret come from the local stack configuration (PORT, JWT_SECRET; by default the
 * running `npm start`). Gives up, saying so, when no router answers for WATCH_TIMEOUT_MS (30 s).
 */
import { resolveToolConfig, secretMismatchWarning, signCustomerToken } from "@rentcar/platform/local-stack";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { exitOnSignals, toolConfig } from "./tool-config.ts";

const [customerId, reservationId] = process.argv.slice(2);
if (!customerId) {
  console.error("usage: npm run -s watch -- <customerId> [reservationId]");
  process.exit(2);
}
const config = toolConfig("watch", resolveToolConfig);
const timeoutMs = Number(process.env.WATCH_TIMEOUT_MS ?? 30_000);
const url = config.routerWsUrl;
const warning = secretMismatchWarning(config);
if (warning) console.error(`watch: ${warning}`);
const token = await signCustomerToken(config.jwtSecret, customerId);

/** Fails the watch when no connection is (re-)established within `timeoutMs`. */
let giveUp: NodeJS.Timeout | undefined;
const armGiveUp = () => {
  giveUp ??= setTimeout(() => {
    console.error(`watch: no router answered at ${url} within ${timeoutMs} ms; is npm start running (PORT=${config.ports.router})?`);
    process.exit(1);
  }, timeoutMs);
};
let everConnected = false;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: Infinity,
  shouldRetry: () => true,
  on: {
    connecting: () => {
      armGiveUp();
      if (everConnected) console.error(`watch: connection lost; reconnecting to ${url} (gives up after ${timeoutMs} ms)`);
    },
    connected: () => {
      clearTimeout(giveUp);
      giveUp = undefined;
      everConnected = true;
      console.log(`watching ${customerId}'s reservations on ${url} (Ctrl-C to stop)`);
    },
  },
});
// Nothing to clean up but the socket: drop it at once (dispose() would wait for a pending connect).
exitOnSignals(async () => {
  try {
    client.terminate();
  } catch {
    // not connected
  }
});
console.error(`watch: connecting to ${url} ...`);
const query = `subscription($id: ID, $after: String) { myReservationChanged(reservationId: $id, after: $after) {
  reservationId status paymentStatus rentalStatus version updatedAt cursor
  reservation { amount car { model } }
} }`;
// After every reconnection the subscription is started again from the last cursor, so the
// changes made while disconnected are replayed (a version already shown is not shown twice).
let cursor: string | null = null;
let current: AsyncIterator<unknown> | undefined;
let connections = 0;
client.on("connected", () => { if (++connections > 1) void current?.return?.(); });
const shown = new Map<string, number>();
for (;;) {
  const variables: Record<string, string | null> = { id: reservationId ?? null, after: cursor };
  const iterator = client.iterate<{ myReservationChanged?: Record<string, any> }>({ query, variables });
  current = iterator;
  try {
    for await (const result of iterator) {
      if (result.errors) console.error(JSON.stringify(result.errors));
      if (result.errors?.some((e) => e.extensions?.code === "CURSOR_EXPIRED")) cursor = null;
      const row: Record<string, any> | undefined = result.data?.myReservationChanged;
      if (!row) continue;
      cursor = row.cursor;
      if (row.version <= (shown.get(row.reservationId) ?? 0)) continue;
      shown.set(row.reservationId, row.version);
      console.log(`${row.updatedAt}  ${row.reservationId}  v${row.version}  ${row.status.padEnd(15)} payment=${row.paymentStatus ?? "-"} rental=${row.rentalStatus ?? "-"}  ${row.reservation?.car?.model ?? ""}`);
    }
  } catch (error) {
    console.error(`watch: subscription ended (${JSON.stringify(error).slice(0, 200)}); resubscribing`);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
