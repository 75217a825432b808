/**
 * `npm run watch -- <customerId> [reservationId]`: subscribes to myReservationChanged
 * through the router (graphql-ws) and prints every change live. ROUTER_WS_URL defaults
 * to ws://127.0.0.1:4000/graphql; the token is signed with JWT_SECRET (or the local default).
 */
import { LOCAL_JWT_SECRET, signCustomerToken } from "@rentcar/platform";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [customerId, reservationId] = process.argv.slice(2);
if (!customerId) {
  console.error("usage: npm run watch -- <customerId> [reservationId]");
  process.exit(2);
}
const url = process.env.ROUTER_WS_URL ?? "ws://127.0.0.1:4000/graphql";
const token = await signCustomerToken(process.env.JWT_SECRET ?? LOCAL_JWT_SECRET, customerId);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: Infinity,
  shouldRetry: () => true,
  on: { connected: () => console.log(`watching ${customerId}'s reservations on ${url} (Ctrl-C to stop)`) },
});
const query = `subscription($id: ID) { myReservationChanged(reservationId: $id) {
  reservationId status paymentStatus rentalStatus version updatedAt
  reservation { amount car { model } }
} }`;
for await (const result of client.iterate({ query, variables: { id: reservationId ?? null } })) {
  if (result.errors) console.error(JSON.stringify(result.errors));
  const row = (result.data as { myReservationChanged?: Record<string, any> } | undefined)?.myReservationChanged;
  if (row) {
    console.log(`${row.updatedAt}  ${row.reservationId}  v${row.version}  ${row.status.padEnd(15)} payment=${row.paymentStatus ?? "-"} rental=${row.rentalStatus ?? "-"}  ${row.reservation?.car?.model ?? ""}`);
  }
}
