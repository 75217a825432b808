/**
 * `npm run -s token -- <customerId> [ttl]`: prints a customer bearer token (HS256,
 * signed with JWT_SECRET or the local default) for trying the API locally.
 */
import { LOCAL_JWT_SECRET, signCustomerToken } from "@rentcar/platform";

const [customerId, ttl = "12h"] = process.argv.slice(2);
if (!customerId) {
  console.error("usage: npm run -s token -- <customerId> [ttl, e.g. 12h]");
  process.exit(2);
}
console.log(await signCustomerToken(process.env.JWT_SECRET ?? LOCAL_JWT_SECRET, customerId, ttl));
