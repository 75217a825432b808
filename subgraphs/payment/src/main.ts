import { runService } from "@rentcar/platform";
import { startPaymentSubgraph } from "./app.ts";
import { paymentEnvSchema } from "./env.ts";

await runService("payment", paymentEnvSchema, startPaymentSubgraph);
