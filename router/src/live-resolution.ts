import { randomUUID } from "node:crypto";
import type { ApolloServer } from "@apollo/server";
import { encodeCursor } from "@rentcar/events";
import type { Logger } from "@rentcar/platform";
import { bulkhead, type BulkheadPolicy } from "cockatiel";
import {
  buildASTSchema, execute, GraphQLError, parse, printSchema, Kind, print, visit, type DocumentNode, type ExecutionResult, type FieldNode,
  type GraphQLFieldResolver, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode,
} from "graphql";
import type { ChangeEntry } from "./change-hub.ts";
import type { RouterContext } from "./context.ts";

export const SUBSCRIPTION_FIELD = "myReservationChanged";
const QUERY_FIELD = "myReservation";
/** The only MyReservation field that needs the gateway; every other one comes from the change itself. */
const NESTED_FIELD = "reservation";
const RESERVATION_ID_VARIABLE = "__reservationId";

/** What one subscription selects, reduced to what its messages depend on. */
export interface LiveSelection {
  /** Subscriptions with equal keys (and customer) share one resolution per change. */
  key: string;
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  /** The equivalent `myReservation` query, when the selection has nested (`reservation { ... }`) fields. */
  gatewayQuery: string | undefined;
  /** Variables of that query (the subscription's own arguments removed). */
  gatewayVariables: Record<string, unknown>;
}

/**
 * Describes the selection of `myReservationChanged` in a subscription document. The key
 * ignores the subscription's own arguments (reservationId, after): they filter and
 * position the stream, not the content of a message.
 */
export function liveSelection(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, field: FieldNode, variables: Record<string, unknown>): LiveSelection {
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  let nested = false;
  const used = new Set<string>();
  for (const node of [field.selectionSet, ...fragments]) {
    if (!node) continue;
    visit(node, {
      Field: (f) => { if (f.name.value === NESTED_FIELD) nested = true; },
      Variable: (v) => { used.add(v.name.value); },
    });
  }
  const gatewayVariables = Object.fromEntries(Object.entries(variables).filter(([name]) => used.has(name)));
  const gatewayQuery = nested ? asQuery(fragments, operation, field, used) : undefined;
  const selectionText = print({ ...field, arguments: [] }) + fragments.map((f) => print(f)).join(" ");
  return {
    key: `${selectionText}|${JSON.stringify(gatewayVariables)}`,
    schema,
    document,
    operationName: operation.name?.value,
    variables,
    gatewayQuery,
    gatewayVariables,
  };
}

/** Rewrites `subscription { myReservationChanged(...) { sel } }` into `query($__reservationId: ID!) { myReservationChanged: myReservation(reservationId: $__reservationId) { sel } }`. */
function asQuery(fragments: DocumentNode["definitions"], operation: OperationDefinitionNode, field: FieldNode, used: Set<string>): string {
  const queryField: FieldNode = {
    ...field,
    alias: { kind: Kind.NAME, value: SUBSCRIPTION_FIELD },
    name: { kind: Kind.NAME, value: QUERY_FIELD },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: "reservationId" }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: RESERVATION_ID_VARIABLE } } }],
  };
  const query: OperationDefinitionNode = {
    ...operation,
    operation: "query" as OperationDefinitionNode["operation"],
    variableDefinitions: [
      ...(operation.variableDefinitions ?? []).filter((v) => used.has(v.variable.name.value)),
      { kind: Kind.VARIABLE_DEFINITION, variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: RESERVATION_ID_VARIABLE } }, type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "ID" } } } },
    ],
    selectionSet: { ...operation.selectionSet, selections: [queryField] },
  };
  return print({ kind: Kind.DOCUMENT, definitions: [query, ...fragments] });
}

const NESTED = Symbol("nested");

/** The row as the change describes it: every message shows exactly that version. */
function rowOf(entry: ChangeEntry, nested: Record<string, unknown> | null): Record<string, unknown> {
  const { event } = entry;
  return {
    ...event.payload,
    id: event.reservationId,
    reservationId: event.reservationId,
    cursor: encodeCursor(entry.id),
    [NESTED]: nested,
  };
}

/**
 * Row fields by name from the change; `reservation` from the gateway's answer (keyed by
 * response key, as are all fields below it, so aliases work at any depth).
 */
const fieldResolver: GraphQLFieldResolver<Record<string | symbol, unknown>, unknown> = (source, _args, _ctx, info) => {
  if (info.parentType.name === "MyReservation") {
    if (info.fieldName === NESTED_FIELD) return (source[NESTED] as Record<string, unknown> | null)?.[info.path.key as string] ?? null;
    return source[info.fieldName];
  }
  if (info.parentType === info.schema.getSubscriptionType()) return source[info.fieldName];
  return source[info.path.key as string];
};

/**
 * A resolver-free copy of the API schema to build messages with: Apollo Server wraps the
 * fields of the gateway's schema with its own resolvers, which would ignore ours.
 */
const plainSchemas = new WeakMap<GraphQLSchema, GraphQLSchema>();
function plainSchema(schema: GraphQLSchema): GraphQLSchema {
  let plain = plainSchemas.get(schema);
  if (!plain) {
    plain = buildASTSchema(parse(printSchema(schema)));
    plainSchemas.set(schema, plain);
  }
  return plain;
}

const asGraphQLError = (error: GraphQLFormattedError) => new GraphQLError(error.message, { extensions: error.extensions ?? {} });

export interface LiveResolverOptions {
  apollo: ApolloServer<RouterContext>;
  log: Logger;
  /** Gateway operations in flight for subscriptions at once, router-wide (SUBSCRIPTION_RESOLVE_CONCURRENCY). */
  concurrency: number;
}

/**
 * Resolves changes into subscription messages. One change is resolved once per
 * selection (the customer is implied: an entry belongs to one customer's log), however
 * many local subscribers share that selection; only selections with nested fields cost
 * a gateway operation, and at most `concurrency` of those run at once, so no number of
 * subscribers can starve a subgraph.
 */
export function createLiveResolver(options: LiveResolverOptions) {
  const gate: BulkheadPolicy = bulkhead(options.concurrency, Number.MAX_SAFE_INTEGER);
  let gatewayOperations = 0;

  async function nestedOf(entry: ChangeEntry, selection: LiveSelection): Promise<{ nested: Record<string, unknown> | null; errors: GraphQLError[] }> {
    if (!selection.gatewayQuery) return { nested: null, errors: [] };
    const { customerId, reservationId } = entry.event;
    const response = await gate.execute(() => {
      gatewayOperations++;
      return options.apollo.executeOperation(
        { query: selection.gatewayQuery, variables: { ...selection.gatewayVariables, [RESERVATION_ID_VARIABLE]: reservationId } },
        // The change was committed before this point, so fetches sent from now on may be shared.
        { contextValue: { requestId: randomUUID(), customerId, log: options.log, startedAt: performance.now() } },
      );
    });
    if (response.body.kind !== "single") return { nested: null, errors: [] };
    const { data, errors } = response.body.singleResult;
    const nested = (data as Record<string, Record<string, unknown> | null> | null | undefined)?.[SUBSCRIPTION_FIELD] ?? null;
    return { nested, errors: (errors ?? []).map(asGraphQLError) };
  }

  return {
    /** The message of `entry` for `selection`, shared with every subscriber of the same selection. */
    resolve(entry: ChangeEntry, selection: LiveSelection): Promise<ExecutionResult> {
      const shared = entry.shared.get(selection.key) as Promise<ExecutionResult> | undefined;
      if (shared) return shared;
      const result = (async (): Promise<ExecutionResult> => {
        const { nested, errors } = await nestedOf(entry, selection);
        const message = await execute({
          schema: plainSchema(selection.schema),
          document: selection.document,
          operationName: selection.operationName,
          variableValues: selection.variables,
          rootValue: { [SUBSCRIPTION_FIELD]: rowOf(entry, nested) },
          fieldResolver,
        });
        const all = [...(message.errors ?? []), ...errors];
        return all.length ? { ...message, errors: all } : message;
      })();
      entry.shared.set(selection.key, result);
      return result;
    },
    /** Gateway operations run for subscriptions so far (each fans out to 1-3 subgraph fetches). */
    get gatewayOperations() { return gatewayOperations; },
  };
}

export type LiveResolver = ReturnType<typeof createLiveResolver>;
