/**
 * Hive Gateway (the peer gateway of the bench), set up to do what our router does for
 * each request: verify the customer's bearer JWT (HS256) and send every subgraph call an
 * internal token naming that customer, signed with INTERNAL_SECRET. Everything else is
 * Hive's defaults (in-flight deduplication included). Secrets come from the bench's env.
 */
import { defineConfig } from "@graphql-hive/gateway";
import { jwtVerify, SignJWT } from "jose";

const jwtKey = new TextEncoder().encode(process.env.BENCH_JWT_SECRET);
const internalKey = new TextEncoder().encode(process.env.BENCH_INTERNAL_SECRET);
/** The verified customer of each client request, so the JWT is verified once per request as in our router. */
const customers = new WeakMap<Request, Promise<string | undefined>>();

async function customerOf(request: Request): Promise<string | undefined> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) return undefined;
  const { payload } = await jwtVerify(match[1]!, jwtKey, { algorithms: ["HS256"] });
  return payload.sub;
}

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    async fromClientToSubgraphs({ request }) {
      let customer = customers.get(request);
      if (!customer) customers.set(request, (customer = customerOf(request)));
      const customerId = await customer;
      const token = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuer("router")
        .setAudience("rentcar-subgraphs").setIssuedAt().setExpirationTime("60s");
      if (customerId) token.setSubject(customerId);
      return { "x-internal-token": await token.sign(internalKey) };
    },
  },
  ...(process.env.BENCH_PEER_DEDUP === "0"
    ? { transportEntries: { "*.http": { options: { deduplicateInflightRequests: false } } } }
    : {}),
});
