import { baseEnvSchema, LOCAL_JWT_SECRET, portSchema, z } from "@rentcar/platform";
import { fileURLToPath } from "node:url";
import { SUPERGRAPH_FILE } from "./subgraphs.ts";

const optionalUrl = z.url().optional();

/** Router settings. In production JWT_SECRET and INTERNAL_SECRET must not be the local defaults. */
export const routerEnvSchema = baseEnvSchema.extend({
  PORT: portSchema(4000),
  /** HS256 secret of customer bearer tokens (`sub` = customer id). */
  JWT_SECRET: z.string().min(16, "must be at least 16 characters").default(LOCAL_JWT_SECRET),
  /** Composed supergraph SDL served by the gateway. */
  SUPERGRAPH_PATH: z.string().default(fileURLToPath(SUPERGRAPH_FILE)),
  RESERVATION_URL: optionalUrl,
  PAYMENT_URL: optionalUrl,
  RENTAL_URL: optionalUrl,
  /** GraphiQL at GET /graphql in a browser (ide.ts): default on, off when NODE_ENV=production. */
  GRAPHIQL: z.enum(["on", "off"]).optional(),
}).superRefine((env, ctx) => {
  if (env.NODE_ENV !== "production") return;
  if (env.JWT_SECRET === LOCAL_JWT_SECRET) ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "the local default secret is not allowed in production" });
  if (env.INTERNAL_SECRET === baseEnvSchema.shape.INTERNAL_SECRET.parse(undefined)) {
    ctx.addIssue({ code: "custom", path: ["INTERNAL_SECRET"], message: "the local default secret is not allowed in production" });
  }
});

export type RouterEnv = z.infer<typeof routerEnvSchema>;
