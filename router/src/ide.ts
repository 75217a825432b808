import { existsSync, readFileSync } from "node:fs";
import type express from "express";

/**
 * GraphiQL in the browser at the router's `/graphql` URL, served entirely by the router:
 * the page, and the bundle built by `npm run generate` (router/ide/build.ts; no CDN), so it
 * works offline and no request leaves the machine (a Content-Security-Policy enforces it).
 * Queries and mutations go to `/graphql` over HTTP, subscriptions over graphql-ws on the
 * same path, both with the header editor's `Authorization` (see the page's banner for
 * `npm run -s token`). API clients (JSON, or a GET with `?query=`) are not affected.
 */

const ENDPOINT = "/graphql";
const ASSETS = { "graphiql.js": "text/javascript; charset=utf-8", "graphiql.css": "text/css; charset=utf-8" } as const;
const ASSET_DIR = new URL("./generated/ide/", import.meta.url);
const DAY_MS = 86_400_000;

/** Whether GraphiQL is served: `GRAPHIQL=on|off`, default on except when `NODE_ENV=production`. */
export function ideEnabled(env: { NODE_ENV: string; GRAPHIQL?: "on" | "off" | undefined }): boolean {
  return env.GRAPHIQL ? env.GRAPHIQL === "on" : env.NODE_ENV !== "production";
}

/**
 * Mounts the IDE on `app` (call before the `/graphql` API middleware): `GET /graphql` from
 * a browser answers the page, `GET /graphql/ide/graphiql.{js,css}` the bundle.
 */
export function mountIde(app: express.Express): void {
  const assets = loadAssets();
  app.get(`${ENDPOINT}/ide/:file`, (req, res) => {
    const file = req.params.file as keyof typeof ASSETS;
    const body = assets?.[file];
    if (!body) {
      res.status(404).type("text/plain").send(assets ? "not found" : "GraphiQL bundle missing: run npm run generate");
      return;
    }
    res.type(ASSETS[file]).setHeader("cache-control", "public, max-age=300");
    res.send(body);
  });
  app.get(ENDPOINT, (req, res, next) => {
    if (req.query.query !== undefined || req.accepts(["application/json", "text/html"]) !== "text/html") return next();
    res.setHeader("content-security-policy", contentSecurityPolicy(req.get("host") ?? ""));
    res.setHeader("cache-control", "no-store");
    res.type("html").send(assets ? page() : missingBundlePage());
  });
}

function loadAssets(): Record<keyof typeof ASSETS, Buffer> | undefined {
  if (!existsSync(new URL("graphiql.js", ASSET_DIR))) return undefined;
  return {
    "graphiql.js": readFileSync(new URL("graphiql.js", ASSET_DIR)),
    "graphiql.css": readFileSync(new URL("graphiql.css", ASSET_DIR)),
  };
}

/** Only this origin (and its WebSocket) may be contacted; GraphiQL's editors need inline styles. */
function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A ready-to-run example: the fleet, a reservation a week from now, and its live changes. */
export function exampleOperations(now = new Date()): string {
  const pickup = new Date(Math.ceil(now.getTime() / DAY_MS) * DAY_MS + 7 * DAY_MS + 10 * 3_600_000);
  const ret = new Date(pickup.getTime() + 3 * DAY_MS);
  return `# Welcome to the Rentcar supergraph (GraphiQL, served by the router; works offline).
#
# "Cars" needs no token. The others act as a customer: get a token with
#     npm run -s token -- alice
# and put it in the Headers tab below:  { "Authorization": "Bearer <token>" }
# Run "MyChanges" in a second tab first to see the reservation change live.

query Cars {
  cars { id model plateNumber dailyRate }
}

mutation Reserve {
  reserveCar(input: { carId: "car-008", pickupAt: "${pickup.toISOString()}", returnAt: "${ret.toISOString()}" }) {
    id status days amount car { model } payment { status amount }
  }
}

query MyReservations {
  myReservations(first: 20) { reservationId status paymentStatus rentalStatus version }
}

subscription MyChanges {
  myReservationChanged { reservationId status paymentStatus rentalStatus version updatedAt }
}
`;
}

const escapeJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

function page(): string {
  const config = { endpoint: ENDPOINT, defaultQuery: exampleOperations(), defaultHeaders: '{\n  "Authorization": "Bearer <paste the output of: npm run -s token -- alice>"\n}' };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rentcar GraphiQL</title>
<link rel="stylesheet" href="${ENDPOINT}/ide/graphiql.css">
<style>
  html, body { height: 100%; margin: 0; }
  body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
  #token-help { padding: 6px 12px; font-size: 13px; background: #f3f4f6; border-bottom: 1px solid #ddd; }
  #token-help code { background: #e5e7eb; padding: 1px 4px; border-radius: 3px; }
  #graphiql { flex: 1; min-height: 0; }
</style>
</head>
<body>
<div id="token-help">Token: run <code>npm run -s token -- alice</code> and put <code>{"Authorization": "Bearer &lt;token&gt;"}</code> in the <b>Headers</b> tab (queries, mutations and subscriptions use it). <code>cars</code> needs none.</div>
<div id="graphiql">Loading GraphiQL…</div>
<script id="ide-config" type="application/json">${escapeJson(config)}</script>
<script src="${ENDPOINT}/ide/graphiql.js"></script>
</body>
</html>`;
}

function missingBundlePage(): string {
  return `<!doctype html><meta charset="utf-8"><title>Rentcar GraphiQL</title>
<p>The GraphiQL bundle is missing: run <code>npm run generate</code> and restart the router. The API itself works: POST GraphQL to ${ENDPOINT}.</p>`;
}
