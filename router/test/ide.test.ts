import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleOperations, ideEnabled, mountIde } from "../src/ide.ts";

let base = "";
let close = () => {};
beforeAll(async () => {
  const app = express();
  mountIde(app);
  app.use("/graphql", (_req, res) => void res.json({ api: true }));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close());

describe("GraphiQL served by the router (offline)", () => {
  it("answers a browser at /graphql with the page, its bundle from the router itself, and a same-origin-only CSP", async () => {
    const res = await fetch(`${base}/graphql`, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<script src="/graphql/ide/graphiql.js"></script>');
    expect(html).toContain("npm run -s token -- alice");
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'self'/);
    const js = await fetch(`${base}/graphql/ide/graphiql.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    expect((await fetch(`${base}/graphql/ide/graphiql.css`)).status).toBe(200);
    expect((await fetch(`${base}/graphql/ide/other.js`)).status).toBe(404);
  });

  it("leaves API clients alone: JSON requests and GET with ?query= reach the API", async () => {
    expect(await (await fetch(`${base}/graphql`, { headers: { accept: "application/json" } })).json()).toEqual({ api: true });
    expect(await (await fetch(`${base}/graphql?query={cars{id}}`, { headers: { accept: "text/html" } })).json()).toEqual({ api: true });
  });

  it("is off in production unless GRAPHIQL=on, and on elsewhere unless GRAPHIQL=off", () => {
    expect(ideEnabled({ NODE_ENV: "production" })).toBe(false);
    expect(ideEnabled({ NODE_ENV: "production", GRAPHIQL: "on" })).toBe(true);
    expect(ideEnabled({ NODE_ENV: "development" })).toBe(true);
    expect(ideEnabled({ NODE_ENV: "development", GRAPHIQL: "off" })).toBe(false);
  });

  it("prefills runnable operations with a reservation period in the future", () => {
    const text = exampleOperations(new Date("2030-01-01T12:00:00Z"));
    expect(text).toContain('pickupAt: "2030-01-09T10:00:00.000Z", returnAt: "2030-01-12T10:00:00.000Z"');
    for (const name of ["query Cars", "mutation Reserve", "subscription MyChanges"]) expect(text).toContain(name);
  });
});
