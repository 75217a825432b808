import type { ApolloServer } from "@apollo/server";
import { decodeCursor, entryTimeMs } from "@rentcar/events";
import { badUserInput, bearerToken, domainError, ErrorCode, verifyCustomerToken, type Logger } from "@rentcar/platform";
import {
  getArgumentValues, GraphQLError, Kind, type ExecutionArgs, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { decodeJwt } from "jose";
import type http from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { Gauge, type Registry } from "prom-client";
import type { ChangeHub } from "./change-hub.ts";
import type { CustomerAuth, RouterContext } from "./context.ts";
import type { RouterEnv } from "./env.ts";
import { createLiveResolver, liveSelection, SUBSCRIPTION_FIELD } from "./live-resolution.ts";
import { LiveSubscription, SLOW_CONSUMER_CLOSE_CODE } from "./live-subscription.ts";

/** Close code when the connection's token expires (the client reconnects with a fresh one). */
export const TOKEN_EXPIRED_CLOSE_CODE = 4403;
/** setTimeout's longest delay; a later expiry is re-armed in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** Limits of the live view (router env, documented in the README). */
export interface SubscriptionLimits {
  /** Open subscriptions per graphql-ws connection (SUBSCRIPTIONS_PER_CONNECTION). */
  perConnection: number;
  /** Open subscriptions per customer on this router replica (SUBSCRIPTIONS_PER_CUSTOMER). */
  perCustomer: number;
  /** Changes a subscription may fall behind before its socket is closed with 4008 (SUBSCRIPTION_BUFFER). */
  buffer: number;
  /** Gateway operations for subscriptions in flight at once, router-wide (SUBSCRIPTION_RESOLVE_CONCURRENCY). */
  resolveConcurrency: number;
  /** Retention of the change log in ms (CHANGE_LOG_RETENTION): an older cursor is CURSOR_EXPIRED. */
  changeLogRetentionMs: number;
}

/** The limits from the router's env. */
export const subscriptionLimits = (env: RouterEnv): SubscriptionLimits => ({
  perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
  perCustomer: env.SUBSCRIPTIONS_PER_CUSTOMER,
  buffer: env.SUBSCRIPTION_BUFFER,
  resolveConcurrency: env.SUBSCRIPTION_RESOLVE_CONCURRENCY,
  changeLogRetentionMs: env.CHANGE_LOG_RETENTION,
});

export interface SubscriptionServerOptions {
  server: http.Server;
  apollo: ApolloServer<RouterContext>;
  /** The API schema of the supergraph (the gateway's), used to validate subscriptions. */
  schema: () => GraphQLSchema;
  hub: ChangeHub;
  /** Customer-token rules, the same as for HTTP requests. */
  auth: CustomerAuth;
  log: Logger;
  limits: SubscriptionLimits;
  /** Where the live-view gauges are registered (the router's /metrics). */
  registry?: Registry;
  /** Ping interval in ms; a client that does not answer is disconnected. */
  keepAliveMs?: number;
}

type ConnectionExtra = {
  customerId?: string;
  expiry?: NodeJS.Timeout;
};

interface LiveContext {
  customerId: string;
  socket: WebSocket;
}

/**
 * graphql-ws server (subprotocol graphql-transport-ws) on the router's `/graphql` path.
 * The JWT comes in `connectionParams.authorization` (missing: close 4401, invalid: 4403);
 * the socket is closed with 4403 when the token expires. Only `myReservationChanged` can
 * be subscribed to; each subscription follows the customer's change log through the
 * change hub (see live-subscription.ts) and its messages are resolved once per change
 * and selection (live-resolution.ts).
 */
export function startSubscriptionServer(options: SubscriptionServerOptions) {
  const { log, limits } = options;
  const resolver = createLiveResolver({ apollo: options.apollo, log, concurrency: limits.resolveConcurrency });
  const perCustomer = new Map<string, number>();
  const wss = new WebSocketServer({ server: options.server, path: "/graphql", maxPayload: 64 * 1024 });
  const cleanup = useServer<Record<string, unknown>, ConnectionExtra>({
    schema: () => options.schema(),
    onConnect: async (ctx) => {
      const header = ctx.connectionParams?.authorization;
      const token = typeof header === "string" ? bearerToken(header) ?? header : undefined;
      if (!token) {
        ctx.extra.socket.close(4401, "Unauthorized");
        return false;
      }
      try {
        ctx.extra.customerId = await verifyCustomerToken(options.auth.secret, token, options.auth.policy);
      } catch {
        return false; // 4403 Forbidden
      }
      const { exp } = decodeJwt(token);
      if (typeof exp === "number") armExpiry(ctx.extra as ConnectionExtra & { socket: WebSocket }, exp * 1000);
      return true;
    },
    onClose: (ctx) => clearTimeout(ctx.extra.expiry),
    onSubscribe: (ctx) => {
      // ctx.subscriptions already holds this one.
      if (Object.keys(ctx.subscriptions).length > limits.perConnection) {
        return [limitExceeded(`at most ${limits.perConnection} subscriptions per connection`, "SUBSCRIPTIONS_PER_CONNECTION", limits.perConnection)];
      }
      return undefined;
    },
    context: (ctx): LiveContext => ({ customerId: ctx.extra.customerId!, socket: ctx.extra.socket }),
    subscribe: (args) => subscribe(args),
  }, wss, options.keepAliveMs ?? 12_000);
  log.info("graphql-ws subscriptions served on /graphql");
  if (options.registry) registerGauges(options.registry);

  function armExpiry(extra: ConnectionExtra & { socket: WebSocket }, expiresAtMs: number): void {
    const delay = expiresAtMs - Date.now();
    if (delay <= 0) {
      extra.socket.close(TOKEN_EXPIRED_CLOSE_CODE, "Forbidden: token expired");
      return;
    }
    extra.expiry = setTimeout(() => armExpiry(extra, expiresAtMs), Math.min(delay, MAX_TIMER_MS));
  }

  function subscribe(args: ExecutionArgs): LiveSubscription | ExecutionResult {
    const operation = args.document.definitions.find((d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName));
    const field = operation?.selectionSet.selections[0];
    if (!operation || field?.kind !== Kind.FIELD || field.name.value !== SUBSCRIPTION_FIELD || operation.selectionSet.selections.length !== 1) {
      return { errors: [badUserInput(`only ${SUBSCRIPTION_FIELD} can be subscribed to, alone`)] };
    }
    const { customerId, socket } = args.contextValue as LiveContext;
    const fieldDef = args.schema.getSubscriptionType()!.getFields()[SUBSCRIPTION_FIELD]!;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const { reservationId, after } = getArgumentValues(fieldDef, field, variables) as { reservationId?: string | null; after?: string | null };
    let afterId: string | undefined;
    if (after != null) {
      afterId = decodeCursor(after);
      if (!afterId) return { errors: [badUserInput("after must be a cursor from a myReservationChanged message", { field: "after" })] };
      if (entryTimeMs(afterId) < Date.now() - limits.changeLogRetentionMs) {
        return { errors: [domainError(ErrorCode.CURSOR_EXPIRED, "this cursor is older than the change log keeps changes: re-read myReservations, then subscribe without after", { retentionMs: limits.changeLogRetentionMs })] };
      }
    }
    const open = perCustomer.get(customerId) ?? 0;
    if (open >= limits.perCustomer) {
      return { errors: [limitExceeded(`at most ${limits.perCustomer} open subscriptions per customer`, "SUBSCRIPTIONS_PER_CUSTOMER", limits.perCustomer)] };
    }
    perCustomer.set(customerId, open + 1);
    return new LiveSubscription({
      hub: options.hub,
      resolver,
      selection: liveSelection(args.schema, args.document, operation, field, variables),
      customerId,
      reservationId: reservationId ?? undefined,
      after: afterId,
      bufferLimit: limits.buffer,
      onSlow: () => {
        log.warn({ customerId }, "subscriber too slow; closing its socket so it resumes from its cursor");
        socket.close(SLOW_CONSUMER_CLOSE_CODE, "Too slow: resubscribe with after = your last cursor");
      },
      onRelease: () => {
        const left = (perCustomer.get(customerId) ?? 1) - 1;
        if (left > 0) perCustomer.set(customerId, left);
        else perCustomer.delete(customerId);
      },
    });
  }

  function registerGauges(registry: Registry): void {
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({ name, help, registers: [registry], collect() { this.set(value()); } });
    gauge("live_subscriptions", "Open myReservationChanged subscriptions on this router", () => stats().subscriptions);
    gauge("live_followed_customers", "Customers whose change log this router follows", () => options.hub.stats().customers);
    gauge("live_gateway_operations", "Gateway operations run to resolve subscription messages since start (one per change and selection with nested fields)", () => resolver.gatewayOperations);
  }

  const stats = () => ({
    subscriptions: [...perCustomer.values()].reduce((n, c) => n + c, 0),
    gatewayOperations: resolver.gatewayOperations,
  });

  return {
    /** Open subscriptions on this replica and the gateway operations they caused (tests, metrics). */
    stats,
    async close() {
      await cleanup.dispose();
      wss.close();
    },
  };
}

function limitExceeded(message: string, limit: string, max: number): GraphQLError {
  return domainError(ErrorCode.LIMIT_EXCEEDED, message, { limit, max });
}
