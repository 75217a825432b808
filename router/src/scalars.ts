import { DateTimeScalar } from "@rentcar/platform";
import { GraphQLScalarType, type GraphQLSchema } from "graphql";

/** Custom scalars the router checks itself, with the subgraphs' own implementation (packages/platform). */
const SHARED_SCALARS: readonly GraphQLScalarType[] = [DateTimeScalar];

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
    Object.assign(type, { parseValue: shared.parseValue, parseLiteral: shared.parseLiteral });
  }
}
