export { paymentTypeDefsUrl, startPaymentSubgraph } from "./app.ts";
export { paymentEnvSchema } from "./env.ts";
