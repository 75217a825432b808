import { Agent, request } from "undici";

/** One GraphQL response as the bench sees it: HTTP status, body, and the first error code if any. */
export interface GraphQLReply<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
  /** `Retry-After` in seconds, when the server shed the request (HTTP 503). */
  retryAfterS?: number;
}

export interface GraphQLHttpClient {
  url: string;
  /**
   * POSTs one operation. Rejects after `timeoutMs` (default 10 s) with an error naming the
   * URL, so a stuck server can never hang a scenario.
   */
  post<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>, timeoutMs?: number): Promise<GraphQLReply<T>>;
  close(): Promise<void>;
}

/**
 * A keep-alive HTTP client for one GraphQL endpoint (undici, up to `connections` sockets),
 * much cheaper per request than `fetch`, so the load generator steals less CPU from the
 * processes it measures on a 2-core machine.
 */
export function graphqlClient(url: string, connections = 128): GraphQLHttpClient {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000, pipelining: 1 });
  return {
    url,
    async post(query, variables = {}, headers = {}, timeoutMs = 10_000) {
      const response = await request(url, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json", accept: "application/json", ...headers },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      }).catch((error: Error) => {
        throw new Error(`POST ${url} failed: ${error.name === "TimeoutError" || error.name === "AbortError" ? `no answer within ${timeoutMs} ms` : error.message}`);
      });
      const text = await response.body.text();
      let body: Omit<GraphQLReply, "status">;
      try {
        body = JSON.parse(text);
      } catch {
        body = { errors: [{ message: `HTTP ${response.statusCode}, not JSON: ${text.slice(0, 200)}`, extensions: { code: `HTTP_${response.statusCode}` } }] };
      }
      const retryAfter = response.headers["retry-after"];
      return { status: response.statusCode, ...body, ...(retryAfter ? { retryAfterS: Number(retryAfter) } : {}) } as GraphQLReply<never>;
    },
    close: () => agent.close(),
  };
}

/** The `extensions.code` of the first error (or `HTTP_<status>`), undefined on success. */
export function errorCodeOf(reply: GraphQLReply): string | undefined {
  if (reply.errors?.length) return reply.errors[0]!.extensions?.code ?? "NO_CODE";
  if (reply.status >= 400) return `HTTP_${reply.status}`;
  return undefined;
}
