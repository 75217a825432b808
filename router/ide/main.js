// GraphiQL for the Rentcar router, bundled by ide/build.ts (esbuild) and served by
// src/ide.ts: no CDN, nothing leaves the machine. Queries and mutations go over HTTP to
// this page's own /graphql, subscriptions over graphql-ws on the same path, with the
// Authorization header of the header editor (the router reads it from connectionParams).
import "graphiql/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { getOperationAST } from "graphql";
import { createClient } from "graphql-ws";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

const config = JSON.parse(document.getElementById("ide-config").textContent);
const httpUrl = new URL(config.endpoint, location.href).toString();
const wsUrl = httpUrl.replace(/^http/, "ws");
const http = createGraphiQLFetcher({ url: httpUrl });

/** One graphql-ws client per Authorization value, so changing the token reconnects. */
const wsClients = new Map();
function wsClient(authorization) {
  let client = wsClients.get(authorization);
  if (!client) {
    client = createClient({ url: wsUrl, lazy: true, retryAttempts: 3, connectionParams: authorization ? { authorization } : {} });
    wsClients.set(authorization, client);
  }
  return client;
}

function headerValue(headers, name) {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/** The header editor's placeholder ("Bearer <paste ...>") counts as no token, so `cars` works before one is pasted. */
function withoutPlaceholder(headers) {
  const value = headerValue(headers, "authorization");
  if (typeof value !== "string" || !/^Bearer\s*<.*>$/.test(value.trim())) return headers;
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
}

function fetcher(params, options) {
  const headers = withoutPlaceholder(options?.headers ?? {});
  const operation = options?.documentAST ? getOperationAST(options.documentAST, params.operationName ?? undefined) : null;
  if (operation?.operation !== "subscription") return http(params, { ...options, headers });
  const authorization = headerValue(headers, "authorization");
  return wsClient(authorization).iterate({ query: params.query, variables: params.variables ?? {}, operationName: params.operationName ?? undefined });
}

createRoot(document.getElementById("graphiql")).render(
  createElement(GraphiQL, {
    fetcher,
    defaultQuery: config.defaultQuery,
    defaultHeaders: config.defaultHeaders,
    defaultEditorToolsVisibility: "headers",
    shouldPersistHeaders: true,
  }),
);
