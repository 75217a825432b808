import { runService } from "@rentcar/platform";
import { startRentalSubgraph } from "./app.ts";
import { rentalEnvSchema } from "./env.ts";

await runService("rental", rentalEnvSchema, startRentalSubgraph);
