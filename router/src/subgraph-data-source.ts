import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from "@apollo/gateway";
import { ErrorCode, INTERNAL_TOKEN_HEADER, REQUEST_ID_HEADER, signInternalToken, type Logger } from "@rentcar/platform";
import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleType } from "cockatiel";
import { Kind, parse, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode } from "graphql";
import { Counter, Gauge, type Registry } from "prom-client";
import { Pool } from "undici";
import type { RouterContext } from "./context.ts";
import { forwardIdempotencyKey } from "./idempotency-key.ts";

type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource["process"]>>;

/** How the router talks to one subgraph (README "Fault isolation"). */
export interface SubgraphDataSourceOptions {
  /** Subgraph name, as in the supergraph (`payment`); the only detail a client sees about it. */
  name: string;
  url: string;
  /** Deadline of one call, in ms (SUBGRAPH_TIMEOUT_MS or its per-subgraph override). */
  timeoutMs: number;
  /** Consecutive failed calls that open the breaker (SUBGRAPH_BREAKER_THRESHOLD). */
  breakerThreshold: number;
  /** How long an open breaker waits before letting one trial call through, in ms (SUBGRAPH_BREAKER_HALF_OPEN_MS). */
  halfOpenAfterMs: number;
  /** Keep-alive connections to this subgraph at most (SUBGRAPH_MAX_SOCKETS); further calls queue. */
  maxSockets: number;
  internalSecret: string;
  log: Logger;
  /** One gauge `subgraph_circuit_state{subgraph}` is registered per registry, shared by every subgraph. */
  circuitGauge: Gauge<"subgraph">;
  /**
   * In-flight deduplication of identical query fetches (SUBGRAPH_DEDUP, default on in the
   * router; off when not given). See {@link SubgraphDataSource}.
   */
  deduplicate?: boolean;
  /** Counters of HTTP exchanges sent and of fetches answered by another one in flight (registered once per registry). */
  fetchCounters?: SubgraphFetchCounters;
}

/** `subgraph_fetches_total{subgraph}` and `subgraph_fetches_deduplicated_total{subgraph}`. */
export interface SubgraphFetchCounters {
  sent: Counter<"subgraph">;
  deduplicated: Counter<"subgraph">;
}

/** One HTTP exchange with the subgraph; `parsed` belongs to the fetch that sent it, others parse `text` again. */
interface Exchange {
  status: number;
  text: string;
  parsed: SubgraphResponse;
}

/** A fetch in flight that identical fetches may join. */
interface InFlight {
  /** performance.now() just before it was sent. */
  sentAt: number;
  exchange: Promise<Exchange>;
}

/** The fetch's own operation is a query (the planner prints `query Name__sub__0 ...` or `{ ... }`). */
const QUERY_TEXT = /^\s*(?:query\b|\{)/;

/** The subgraph did not give a usable answer: down, too slow, 5xx, or not GraphQL. Counted by the breaker. */
class SubgraphUnavailable extends Error {
  override name = "SubgraphUnavailable";
}

/** No answer within the call's deadline (the HTTP exchange is aborted). A breaker failure too. */
class SubgraphTimeout extends SubgraphUnavailable {
  override name = "SubgraphTimeout";
}

const STATE_NAMES: Record<CircuitState, "closed" | "open" | "half-open" | "isolated"> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "isolated",
};
const STATE_VALUES: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0, [CircuitState.Open]: 1, [CircuitState.HalfOpen]: 2, [CircuitState.Isolated]: 3,
};

/** Errors per failed fetch at most: one per entity, so a list of 10,000 entities cannot make a 10,000-error answer. */
const MAX_ERRORS_PER_FETCH = 100;

/**
 * The gateway's data source for one subgraph: an undici keep-alive pool with bounded
 * sockets, a deadline on every call and a cockatiel circuit breaker. A call that times
 * out, cannot connect, gets a 5xx or a body that is not GraphQL counts as a failure;
 * after `breakerThreshold` in a row the breaker opens and calls fail at once until a
 * trial call succeeds. Failures never throw into the gateway: they come back as a
 * GraphQL error `SERVICE_UNAVAILABLE` with `extensions.service` = the subgraph name and
 * the path of each field that subgraph would have given, so the fields of healthy
 * subgraphs still arrive (partial result). GraphQL errors the subgraph answers (with any
 * HTTP status) are passed through with their codes, and so is a 503 OVERLOADED refusal
 * (the subgraph shed the call before any work), which does not count against the breaker.
 */
export class SubgraphDataSource implements GraphQLDataSource<RouterContext> {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly breaker;

  private readonly options: SubgraphDataSourceOptions;
  /** Query fetches in flight, by {@link dedupKey}; removed when settled. */
  private readonly inFlight = new Map<string, InFlight>();

  constructor(options: SubgraphDataSourceOptions) {
    this.options = options;
    const url = new URL(options.url);
    this.path = `${url.pathname}${url.search}`;
    this.pool = new Pool(url.origin, {
      connections: options.maxSockets,
      keepAliveTimeout: 4_000,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      // Backstops only: the breaker's deadline (AbortSignal) ends a call first.
      headersTimeout: options.timeoutMs + 1_000,
      bodyTimeout: options.timeoutMs + 1_000,
    });
    this.breaker = circuitBreaker(handleType(SubgraphUnavailable), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breakerThreshold),
    });
    options.circuitGauge.set({ subgraph: options.name }, 0);
    this.breaker.onStateChange((state) => {
      options.circuitGauge.set({ subgraph: options.name }, STATE_VALUES[state]);
      options.log.warn({ subgraph: options.name, breaker: STATE_NAMES[state] }, `circuit breaker of subgraph ${options.name} is ${STATE_NAMES[state]}`);
    });
  }

  /** The breaker's state, reported by the router's readiness JSON. */
  get state(): "closed" | "open" | "half-open" | "isolated" {
    return STATE_NAMES[this.breaker.state];
  }

  async process(options: GraphQLDataSourceProcessOptions<RouterContext>): Promise<SubgraphResponse> {
    const context = "incomingRequestContext" in options ? options.context : undefined;
    const log = context?.log ?? this.options.log;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      [INTERNAL_TOKEN_HEADER]: await signInternalToken(this.options.internalSecret, {
        issuer: "router",
        ...(context?.customerId ? { customerId: context.customerId } : {}),
      }),
    };
    if (context?.requestId) headers[REQUEST_ID_HEADER] = context.requestId;
    forwardIdempotencyKey(options, headers);
    const { query, variables, operationName, extensions } = options.request;
    const body = JSON.stringify({ query, variables, operationName, extensions });
    const key = this.dedupKey(options, headers, body);
    try {
      const joined = key === undefined ? undefined : this.inFlight.get(key);
      // Joined only when sent after this client request started: the answer then reflects
      // everything the client saw complete before asking (read-your-writes is kept).
      if (joined && context?.startedAt !== undefined && joined.sentAt >= context.startedAt) {
        this.options.fetchCounters?.deduplicated.inc({ subgraph: this.options.name });
        return this.answer(await joined.exchange, false, log);
      }
      return this.answer(await this.sendShared(key, body, headers), true, log);
    } catch (error) {
      log.warn({ subgraph: this.options.name, err: describe(error) }, `subgraph ${this.options.name} unavailable`);
      const document = ("document" in options ? options.document : undefined) ?? parseQuietly(query);
      return { errors: unavailableErrors(this.options.name, document, options.request.variables) };
    }
  }

  /**
   * What makes two fetches identical, or undefined when this one must not be shared: only
   * a query fetch of a query operation (never a mutation, a subscription, or the fetches
   * a mutation plans after its root field) of a client request whose start is known; same
   * body (query, variables, operationName, extensions), same identity (the customer the
   * internal token names; the issuer is always the router) and same forwarded headers
   * (Idempotency-Key; the request id is not compared: a shared fetch carries the first one's).
   */
  private dedupKey(options: GraphQLDataSourceProcessOptions<RouterContext>, headers: Record<string, string>, body: string): string | undefined {
    if (!this.options.deduplicate || !("incomingRequestContext" in options) || options.context?.startedAt === undefined) return undefined;
    if (options.incomingRequestContext.operation?.operation !== "query" || !QUERY_TEXT.test(options.request.query ?? "")) return undefined;
    let key = `${options.context.customerId ?? ""}\n`;
    for (const name in headers) if (name !== INTERNAL_TOKEN_HEADER && name !== REQUEST_ID_HEADER) key += `${name}:${headers[name]}\n`;
    return key + body;
  }

  /** Sends the fetch through the breaker and deadline; identical fetches may join it while it is in flight (when `key` is set). */
  private sendShared(key: string | undefined, body: string, headers: Record<string, string>): Promise<Exchange> {
    const sentAt = performance.now();
    this.options.fetchCounters?.sent.inc({ subgraph: this.options.name });
    const exchange = this.breaker.execute(() => this.sendWithDeadline(body, headers));
    if (key !== undefined) {
      const entry: InFlight = { sentAt, exchange };
      this.inFlight.set(key, entry);
      const settled = () => { if (this.inFlight.get(key) === entry) this.inFlight.delete(key); };
      exchange.then(settled, settled);
    }
    return exchange;
  }

  /**
   * The gateway's response for one fetch. The gateway writes into the response object it
   * gets (merging entities, rewrites, `__typename`), so every fetch sharing an exchange
   * gets its own parse of the text; only the sender reuses the parse made to judge it.
   */
  private answer(exchange: Exchange, own: boolean, log: Logger): SubgraphResponse {
    const response = own ? exchange.parsed : parseGraphQLResponse(exchange.text)!;
    if (exchange.status === 401 || exchange.status === 403) {
      // The subgraph refused the router's own internal token: a deployment error (secret mismatch), not the client's.
      log.error({ subgraph: this.options.name, status: exchange.status, errors: response.errors }, "subgraph refused the router's internal token");
      return { errors: [{ message: "internal error", extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }] };
    }
    return response;
  }

  /**
   * {@link send} with the call's deadline: at `timeoutMs` the exchange is aborted, whether
   * it waits for a pooled socket, for the answer or for the rest of the body, and fails with
   * SubgraphTimeout. One timer and one AbortController per call: cockatiel's timeout policy
   * cost ~2% of the router's CPU (derived controllers, abort listeners, promise races).
   */
  private async sendWithDeadline(body: string, headers: Record<string, string>): Promise<Exchange> {
    const aborter = new AbortController();
    const timer = setTimeout(() => aborter.abort(new SubgraphTimeout(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    try {
      return await this.send(body, headers, aborter.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One HTTP exchange; throws SubgraphUnavailable (a breaker failure) for anything that is not a usable GraphQL answer. */
  private async send(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Exchange> {
    let response;
    try {
      response = await this.pool.request({ path: this.path, method: "POST", headers, body, signal });
    } catch (error) {
      if (error instanceof SubgraphTimeout) throw error;
      throw new SubgraphUnavailable(`request failed: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.body.text().catch((error: Error) => {
      if (error instanceof SubgraphTimeout) throw error;
      throw new SubgraphUnavailable(`response body failed: ${error.message}`, { cause: error });
    });
    const parsed = parseGraphQLResponse(text);
    // A subgraph at capacity refused the call before doing anything (admission control):
    // it is healthy, so this is no breaker failure; the client gets OVERLOADED and retries.
    if (response.statusCode === 503 && parsed?.errors?.some((e) => e.extensions?.code === ErrorCode.OVERLOADED)) return { status: 503, text, parsed };
    if (response.statusCode >= 500 || !parsed) {
      throw new SubgraphUnavailable(`HTTP ${response.statusCode}${parsed ? "" : ", not a GraphQL response"}`);
    }
    return { status: response.statusCode, text, parsed };
  }

  /** Closes the keep-alive connections (router shutdown). */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** The body as a GraphQL response (`data` and/or `errors`), or undefined when it is something else. */
function parseGraphQLResponse(text: string): SubgraphResponse | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { data, errors, extensions } = value as Record<string, unknown>;
  if (data === undefined && !Array.isArray(errors)) return undefined;
  return {
    ...(data !== undefined ? { data: data as Record<string, unknown> | null } : {}),
    ...(Array.isArray(errors) ? { errors: errors as GraphQLFormattedError[] } : {}),
    ...(extensions && typeof extensions === "object" ? { extensions: extensions as Record<string, unknown> } : {}),
  };
}

/**
 * The SERVICE_UNAVAILABLE errors standing for a failed fetch, with paths the gateway maps
 * back into the client's response: one per entity (`_entities.<i>.<field>`) of an entity
 * fetch, one per root field otherwise.
 */
function unavailableErrors(service: string, document: DocumentNode | undefined, variables: Record<string, unknown> | undefined): GraphQLFormattedError[] {
  const error = (path?: (string | number)[]): GraphQLFormattedError => ({
    message: `${service} is temporarily unavailable; try again later`,
    ...(path ? { path } : {}),
    extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, service },
  });
  const operation = document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const rootFields = operation?.selectionSet.selections.filter((s) => s.kind === Kind.FIELD) ?? [];
  if (rootFields.length === 0) return [error()];
  const [first] = rootFields;
  if (first?.name.value === "_entities") {
    const representations = Array.isArray(variables?.representations) ? variables.representations.length : 0;
    const field = first.selectionSet?.selections
      .flatMap((s) => (s.kind === Kind.INLINE_FRAGMENT ? s.selectionSet.selections : [s]))
      .find((s) => s.kind === Kind.FIELD && s.name.value !== "__typename");
    const key = field?.kind === Kind.FIELD ? (field.alias ?? field.name).value : undefined;
    const count = Math.min(representations, MAX_ERRORS_PER_FETCH);
    if (count === 0) return [error()];
    return Array.from({ length: count }, (_, i) => error(key ? ["_entities", i, key] : ["_entities", i]));
  }
  return rootFields.map((field) => error([(field.alias ?? field.name).value]));
}

/** The fetch's operation (the gateway does not always pass it parsed); undefined if it cannot be parsed. */
function parseQuietly(query: string | undefined): DocumentNode | undefined {
  try {
    return query ? parse(query) : undefined;
  } catch {
    return undefined;
  }
}

/** A log-friendly reason (the full detail stays in the logs). */
function describe(error: unknown): string {
  if (error instanceof BrokenCircuitError) return "circuit breaker open";
  if (error instanceof SubgraphTimeout) return error.message;
  const cause = (error as Error).cause as Error | undefined;
  return [(error as Error).message, cause?.message].filter(Boolean).join(": ");
}

/** The fetch counters of every subgraph, registered once per registry. */
export function subgraphFetchCounters(registry: Registry): SubgraphFetchCounters {
  return {
    sent: new Counter({
      name: "subgraph_fetches_total",
      help: "HTTP requests sent by the router to a subgraph, by subgraph",
      labelNames: ["subgraph"] as const,
      registers: [registry],
    }),
    deduplicated: new Counter({
      name: "subgraph_fetches_deduplicated_total",
      help: "Subgraph fetches answered by an identical query fetch already in flight (SUBGRAPH_DEDUP), by subgraph",
      labelNames: ["subgraph"] as const,
      registers: [registry],
    }),
  };
}

/** The gauge of every subgraph's breaker state (0 closed, 1 open, 2 half-open), registered once. */
export function subgraphCircuitGauge(registry: Registry): Gauge<"subgraph"> {
  return new Gauge({
    name: "subgraph_circuit_state",
    help: "Circuit breaker of router -> subgraph calls, by subgraph: 0 closed, 1 open, 2 half-open",
    labelNames: ["subgraph"] as const,
    registers: [registry],
  });
}
