import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import { MaxTokensParserWLexer } from "@escape.tech/graphql-armor-max-tokens";
import type { Request, Response, NextFunction } from "express";
import type { GraphQLError, ValidationRule } from "graphql";
import { LRUCache } from "lru-cache";
import type { RouterContext } from "./context.ts";
import type { RouterEnv } from "./env.ts";

/**
 * Static limits on every document, checked before execution (GraphQL Armor): depth,
 * aliases, directives and cost as validation rules (a refused document is a 400
 * `GRAPHQL_VALIDATION_FAILED` naming the limit; nothing reaches a subgraph). The token
 * limit runs earlier, in {@link tokenLimit}. In production "Did you mean ..." field
 * suggestions are masked so the schema cannot be mapped by typo.
 */
export function abuseLimits(env: RouterEnv): { plugins: ApolloServerPlugin<RouterContext>[]; validationRules: ValidationRule[] } {
  const armor = new ApolloArmor({
    // Armor's Apollo plugin for tokens throws from a parsing hook, which Apollo answers with a 500; see tokenLimit.
    maxTokens: { enabled: false },
    maxDepth: { n: env.GRAPHQL_MAX_DEPTH },
    maxAliases: { n: env.GRAPHQL_MAX_ALIASES },
    maxDirectives: { n: env.GRAPHQL_MAX_DIRECTIVES },
    costLimit: { maxCost: env.GRAPHQL_MAX_COST },
    blockFieldSuggestion: { enabled: env.NODE_ENV === "production" },
  }).protect();
  // Armor's typings come from Apollo's CommonJS build; the plugins are the same objects.
  return { plugins: armor.plugins as unknown as ApolloServerPlugin<RouterContext>[], validationRules: armor.validationRules };
}

/**
 * Express middleware refusing a document with more than `maxTokens` lexical tokens
 * (GraphQL Armor's token-counting parser, stopping at the limit) before Apollo parses
 * it: a 1,000-alias document is answered in milliseconds with a 400
 * `GRAPHQL_PARSE_FAILED`, and never holds the event loop for other clients. Documents
 * within the limit (and syntax errors) go on to Apollo unchanged. A document found within
 * the limit is remembered (LRU of 4 MiB of document text), so the clients' usual
 * operations are not lexed twice per request (Apollo parses them from its own cache);
 * a refused document is never remembered.
 */
export function tokenLimit(maxTokens: number) {
  const withinLimit = new LRUCache<string, true>({ maxSize: 4 * 2 ** 20, sizeCalculation: (_, query) => Math.max(1, query.length) });
  return (req: Request, res: Response, next: NextFunction): void => {
    const query: unknown = req.method === "GET" ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
    if (typeof query !== "string") return next();
    if (withinLimit.has(query)) return next();
    let refusal: GraphQLError | undefined;
    try {
      new MaxTokensParserWLexer(query, { n: maxTokens, onReject: [(_ctx, error) => { refusal = error; }], propagateOnRejection: true }).parseDocument();
    } catch {
      // A syntax error is Apollo's to report; only the token limit is answered here.
    }
    if (!refusal) {
      withinLimit.set(query, true);
      return next();
    }
    res.status(400).json({ errors: [{ message: refusal.message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }] });
  };
}
