/**
 * `npm run -s token -- <customerId> [ttl]`: prints a customer bearer token (HS256,
 * signed with JWT_SECRET or the local default, as `npm start` uses) for trying the API locally.
 */
import { resolveToolConfig, secretMismatchWarning, signCustomerToken } from "@rentcar/platform/local-stack";
import { toolConfig } from "./tool-config.ts";

const [customerId, ttl = "12h"] = process.argv.slice(2);
if (!customerId) {
  console.error("usage: npm run -s token -- <customerId> [ttl, e.g. 12h]");
  process.exit(2);
}
const config = toolConfig("token", resolveToolConfig);
const warning = secretMismatchWarning(config);
if (warning) console.error(`token: ${warning}`);
console.log(await signCustomerToken(config.jwtSecret, customerId, ttl));
