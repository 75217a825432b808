import { DateTimeScalar } from "@rentcar/platform";
import { GraphQLScalarType, type GraphQLSchema, type ValueNode } from "graphql";

/** Custom scalars the router checks itself, with the subgraphs' own implementation (packages/platform). */
const SHARED_SCALARS: readonly GraphQLScalarType[] = [DateTimeScalar];

/**
 * A shared scalar refused a client's value. Deliberately not a GraphQLError: graphql-js
 * then wraps it ("Expected value of type ...") and keeps it as `originalError`, which
 * the error contract recognises to answer `BAD_USER_INPUT` whichever phase saw it.
 */
export class ScalarInputError extends Error {
  override name = "ScalarInputError";
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
  }
}

/**
 * Gives the gateway's API schema the input rules of the subgraphs' custom scalars. The
 * supergraph only names `DateTime`, so the gateway would accept any string and let a
 * subgraph fail later (as an internal error, with its URL). With the shared parser, a
 * bad literal fails validation and a bad variable fails coercion before planning, as
 * `BAD_USER_INPUT`, exactly as the subgraph would have answered. Output is left as the
 * subgraphs serialised it.
 */
export function validateSharedScalars(schema: GraphQLSchema): void {
  for (const shared of SHARED_SCALARS) {
    const type = schema.getType(shared.name);
    if (!(type instanceof GraphQLScalarType)) continue;
    Object.assign(type, {
      parseValue: (value: unknown) => refusedAs(() => shared.parseValue(value)),
      parseLiteral: (node: ValueNode, variables?: Record<string, unknown> | null) => refusedAs(() => shared.parseLiteral(node, variables)),
    });
  }
}

function refusedAs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ScalarInputError(error);
  }
}
