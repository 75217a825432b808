import type { ApolloServer } from "@apollo/server";
import { bearerToken, verifyCustomerToken, type CustomerTokenPolicy, type Logger } from "@rentcar/platform";
import {
  getArgumentValues, Kind, print, visit, type DocumentNode, type ExecutionArgs, type ExecutionResult, type FieldNode,
  type GraphQLSchema, type OperationDefinitionNode,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type http from "node:http";
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";
import type { DomainEvent } from "@rentcar/events";
import type { ChangeHub } from "./change-hub.ts";
import type { RouterContext } from "./context.ts";

/** Changes buffered per subscription before the oldest are dropped (a slow client sees a version gap). */
const BUFFER_LIMIT = 100;
const SUBSCRIPTION_FIELD = "myReservationChanged";
const QUERY_FIELD = "myReservation";

export interface SubscriptionServerOptions {
  server: http.Server;
  apollo: ApolloServer<RouterContext>;
  /** The API schema of the supergraph (the gateway's), used to validate subscriptions. */
  schema: () => GraphQLSchema;
  hub: ChangeHub;
  jwtSecret: string;
  /** The customer-token rules of the HTTP path (JWT_MAX_TTL, JWT_ISSUER, JWT_AUDIENCE); platform defaults when absent. */
  tokenPolicy?: CustomerTokenPolicy;
  log: Logger;
  /** Ping interval in ms; a client that does not answer is disconnected. */
  keepAliveMs?: number;
}

/**
 * graphql-ws server (subprotocol graphql-transport-ws) on the router's `/graphql` path.
 * The JWT comes in `connectionParams.authorization` (missing: close 4401, invalid: 4403).
 * `myReservationChanged` listens to this replica's change hub; every change is resolved
 * through the gateway as the equivalent `myReservation` query, so the payload may select
 * fields of any subgraph, with the subscriber's own identity (owner checks apply).
 */
export function startSubscriptionServer(options: SubscriptionServerOptions) {
  const { log } = options;
  const wss = new WebSocketServer({ server: options.server, path: "/graphql", maxPayload: 64 * 1024 });
  const cleanup = useServer<Record<string, unknown>, { customerId?: string }>({
    schema: () => options.schema(),
    onConnect: async (ctx) => {
      const header = ctx.connectionParams?.authorization;
      const token = typeof header === "string" ? bearerToken(header) ?? header : undefined;
      if (!token) {
        ctx.extra.socket.close(4401, "Unauthorized");
        return false;
      }
      try {
        ctx.extra.customerId = await verifyCustomerToken(options.jwtSecret, token, options.tokenPolicy);
        return true;
      } catch {
        return false; // 4403 Forbidden
      }
    },
    context: (ctx) => ({ customerId: ctx.extra.customerId }),
    subscribe: (args) => subscribe(args, options),
  }, wss, options.keepAliveMs ?? 12_000);
  log.info("graphql-ws subscriptions served on /graphql");
  return {
    async close() {
      await cleanup.dispose();
      wss.close();
    },
  };
}

function subscribe(args: ExecutionArgs, options: SubscriptionServerOptions): AsyncGenerator<ExecutionResult> | ExecutionResult {
  const operation = args.document.definitions.find((d): d is OperationDefinitionNode =>
    d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName));
  const field = operation?.selectionSet.selections[0];
  if (!operation || field?.kind !== Kind.FIELD || field.name.value !== SUBSCRIPTION_FIELD || operation.selectionSet.selections.length !== 1) {
    return { errors: [{ message: `only ${SUBSCRIPTION_FIELD} can be subscribed to` } as never] };
  }
  const fieldDef = args.schema.getSubscriptionType()!.getFields()[SUBSCRIPTION_FIELD]!;
  const { reservationId } = getArgumentValues(fieldDef, field, args.variableValues ?? {}) as { reservationId?: string };
  const customerId = (args.contextValue as { customerId: string }).customerId;
  return deliver({
    ...options,
    customerId,
    reservationId,
    query: asQuery(args.document, operation, field),
    variables: args.variableValues ?? {},
    responseKey: field.alias?.value ?? SUBSCRIPTION_FIELD,
    rowFields: (field.selectionSet?.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [{ key: s.alias?.value ?? s.name.value, name: s.name.value }] : [])),
  });
}

/** Rewrites `subscription { myReservationChanged(...) { sel } }` into `query($__rid: ID!) { myReservationChanged: myReservation(reservationId: $__rid) { sel } }`. */
function asQuery(document: DocumentNode, operation: OperationDefinitionNode, field: FieldNode): string {
  const rid = "__reservationId";
  const queryField: FieldNode = {
    ...field,
    alias: { kind: Kind.NAME, value: field.alias?.value ?? SUBSCRIPTION_FIELD },
    name: { kind: Kind.NAME, value: QUERY_FIELD },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "reservationId" }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: rid } } }],
  };
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  // The subscription's own arguments are gone; keep only the variables the selection still uses.
  const used = new Set<string>();
  for (const node of [field.selectionSet, ...fragments]) {
    if (node) visit(node, { Variable: (variable) => { used.add(variable.name.value); } });
  }
  const query: OperationDefinitionNode = {
    ...operation,
    operation: "query" as OperationDefinitionNode["operation"],
    variableDefinitions: [
      ...(operation.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value)),
      { kind: Kind.VARIABLE_DEFINITION, variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: rid } }, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "ID" } } } },
    ],
    selectionSet: { ...operation.selectionSet, selections: [queryField] },
  };
  return print({ kind: Kind.DOCUMENT, definitions: [query, ...fragments] });
}

interface Delivery extends SubscriptionServerOptions {
  customerId: string;
  reservationId: string | undefined;
  query: string;
  variables: Record<string, unknown>;
  responseKey: string;
  /** Top-level fields the client selected on MyReservation (response key and field name). */
  rowFields: { key: string; name: string }[];
}

/** The row as the change event describes it: each delivered message shows that version, not a later one. */
function rowFromChange(change: DomainEvent<"MyReservationChanged">): Record<string, unknown> {
  return { reservationId: change.reservationId, ...change.payload };
}

/**
 * Yields one result per change of the customer's rows, in version order per reservation
 * (a version not newer than the last one sent is skipped). The row's own fields come from
 * the change event; nested fields (`reservation { car payment rental }`) are resolved
 * through the gateway as the subscriber. The buffer is bounded: when a client is too
 * slow, the oldest changes are dropped (the client sees the version gap).
 */
async function* deliver(d: Delivery): AsyncGenerator<ExecutionResult> {
  const pending: DomainEvent<"MyReservationChanged">[] = [];
  let wake: (() => void) | undefined;
  const unlisten = d.hub.listen(d.customerId, (change) => {
    if (d.reservationId && change.reservationId !== d.reservationId) return;
    if (pending.length >= BUFFER_LIMIT) {
      pending.shift();
      d.log.warn({ customerId: d.customerId }, "subscriber too slow; dropped its oldest change");
    }
    pending.push(change);
    wake?.();
  });
  const lastVersion = new Map<string, number>();
  try {
    for (;;) {
      const change = pending.shift();
      if (!change) {
        await new Promise<void>((resolve) => { wake = resolve; });
        continue;
      }
      const { reservationId } = change;
      if (change.payload.version <= (lastVersion.get(reservationId) ?? 0)) continue;
      const response = await d.apollo.executeOperation(
        { query: d.query, variables: { ...d.variables, __reservationId: reservationId } },
        { contextValue: { requestId: randomUUID(), customerId: d.customerId, log: d.log } },
      );
      if (response.body.kind !== "single") continue;
      const { data, errors } = response.body.singleResult;
      const row = (data as Record<string, Record<string, unknown> | null> | null | undefined)?.[d.responseKey];
      if (!row) {
        if (errors) yield { errors: errors as never }; // e.g. a subgraph down: tell the client, keep the subscription
        continue; // otherwise: not visible to this customer
      }
      const asChanged = rowFromChange(change);
      for (const { key, name } of d.rowFields) if (name in asChanged) row[key] = asChanged[name];
      lastVersion.set(reservationId, change.payload.version);
      yield { data: { [d.responseKey]: row }, ...(errors ? { errors: errors as never } : {}) };
    }
  } finally {
    unlisten();
  }
}
