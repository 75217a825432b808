import { runService } from "@rentcar/platform";
import { startRouter } from "./app.ts";
import { routerEnvSchema } from "./env.ts";

await runService("router", routerEnvSchema, startRouter);
