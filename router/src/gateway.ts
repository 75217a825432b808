import { readFileSync } from "node:fs";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { INTERNAL_TOKEN_HEADER, signInternalToken } from "@rentcar/platform";
import type { RouterContext } from "./context.ts";
import type { RouterEnv } from "./env.ts";
import { SUBGRAPHS } from "./subgraphs.ts";
import { forwardIdempotencyKey } from "./idempotency-key.ts";

/**
 * The federation gateway over the committed supergraph (no introspection at run time).
 * Each subgraph call carries the request id and an internal token naming the customer,
 * signed with INTERNAL_SECRET: subgraphs trust only that, never client headers.
 */
export function createGateway(env: RouterEnv): ApolloGateway {
  const overrides = new Map(SUBGRAPHS.map((s) => [s.name, env[s.urlEnv]]));
  return new ApolloGateway({
    supergraphSdl: readFileSync(env.SUPERGRAPH_PATH, "utf8"),
    buildService: ({ name, url }) => new RemoteGraphQLDataSource<RouterContext>({
      url: overrides.get(name as never) ?? url,
      async willSendRequest(options) {
        const { request, context } = options;
        if (!request.http) return;
        request.http.headers.set("x-request-id", context.requestId);
        forwardIdempotencyKey(options);
        request.http.headers.set(INTERNAL_TOKEN_HEADER, await signInternalToken(env.INTERNAL_SECRET, {
          issuer: "router",
          ...(context.customerId ? { customerId: context.customerId } : {}),
        }));
      },
    }),
  });
}
