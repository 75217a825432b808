import { GraphQLScalarType, Kind } from "graphql";
import { badUserInput } from "./errors.ts";

// An explicit offset is required so that "10:00" can never mean two different instants.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  if (typeof value !== "string" || !ISO_8601.test(value)) {
    throw badUserInput(`DateTime must be an ISO-8601 string with a time zone, e.g. 2030-01-31T09:00:00Z; got ${JSON.stringify(value)}`);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badUserInput(`DateTime ${value} is not a real date`);
  return date;
}

/**
 * `DateTime` scalar shared by every subgraph: ISO-8601 with an explicit offset on
 * input, always UTC (`toISOString`, ms precision) on output.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An instant as an ISO-8601 string with a time zone; returned in UTC, e.g. 2030-01-31T09:00:00.000Z",
  serialize: (value) => (value instanceof Date ? value : parseDateTime(value)).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badUserInput("DateTime must be a string");
    return parseDateTime(ast.value);
  },
});
