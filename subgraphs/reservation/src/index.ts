export { reservationTypeDefsUrl, startReservationSubgraph } from "./app.ts";
export { reservationEnvSchema } from "./env.ts";
