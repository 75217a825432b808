import { INTERNAL_TOKEN_HEADER, signInternalToken, type InternalCaller } from "@rentcar/platform";

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

/** POSTs a GraphQL operation and returns the HTTP status with the parsed body. */
export async function postGraphQL<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, "status">;
  return { status: response.status, ...body };
}

/** Calls a subgraph directly, as the router (or a sibling service) would, with an internal token (plus `headers`, e.g. Idempotency-Key). */
export async function callSubgraph<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  caller: InternalCaller,
  secret: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  return postGraphQL<T>(url, query, variables, { ...headers, [INTERNAL_TOKEN_HEADER]: await signInternalToken(secret, caller) });
}

/** The `extensions.code` of every error, for compact assertions. */
export const errorCodes = (response: GraphQLResponse): (string | undefined)[] =>
  (response.errors ?? []).map((e) => e.extensions?.code);
