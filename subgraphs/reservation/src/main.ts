import { runService } from "@rentcar/platform";
import { startReservationSubgraph } from "./app.ts";
import { reservationEnvSchema } from "./env.ts";

await runService("reservation", reservationEnvSchema, startReservationSubgraph);
