import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as urlParse } from "node:url";
import { ApolloServer } from "@apollo/server";
import express from "express";
import fc from "fast-check";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { graphqlHttpHandler, jsonBody, searchOf, startHttpService } from "../src/http-service.ts";
import { createLogger } from "../src/logger.ts";
import { createMetrics } from "../src/metrics.ts";

async function startSlowService(readinessOk: { value: boolean }) {
  return startHttpService({
    name: "test",
    port: 0,
    log: createLogger("test", "silent"),
    metrics: createMetrics("test"),
    readiness: [{ name: "database", check: async () => { if (!readinessOk.value) throw new Error("connection refused"); } }],
    shutdownTimeoutMs: 5_000,
    shutdownDelayMs: 300,
    mount(app) {
      app.post("/echo", express.json(), (req, res) => { res.json(req.body); });
      app.get("/slow", async (_req, res) => {
        await sleep(600);
        res.json({ done: true });
      });
    },
  });
}

describe("http service health and graceful shutdown", () => {
  it("answers live 200 and ready 200/503 with the failing check named", async () => {
    const ok = { value: true };
    const service = await startSlowService(ok);
    try {
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
      ok.value = false;
      const notReady = await fetch(`${service.url}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false, checks: { database: "error: connection refused" } });
    } finally {
      await service.shutdown("test done");
    }
  });

  it("answers a malformed JSON body with a JSON 400, not an HTML page", async () => {
    const service = await startSlowService({ value: true });
    try {
      const res = await fetch(`${service.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: "{\"query\": " });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: "BAD_REQUEST" } }] });
    } finally {
      await service.shutdown("test done");
    }
  });

  it("turns readiness 503 first, lets the in-flight request finish, then stops listening", async () => {
    const service = await startSlowService({ value: true });
    const inFlight = fetch(`${service.url}/slow`).then((r) => r.json());
    await sleep(50);
    const shutdown = service.shutdown("SIGTERM");
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await inFlight).toEqual({ done: true });
    await shutdown;
    await expect(fetch(`${service.url}/health/live`)).rejects.toThrow();
  });
});

/** A service with no readiness checks and the given routes. */
function startPlainService(mount: (app: express.Express) => void, close?: () => Promise<void>) {
  return startHttpService({
    name: "test", port: 0, log: createLogger("test", "silent"), metrics: createMetrics("test"), readiness: [], shutdownTimeoutMs: 1_000, mount, close,
  });
}

describe("graphqlHttpHandler", () => {
  async function startGraphqlService() {
    const apollo = new ApolloServer<{ who: string }>({
      typeDefs: "type Query { hello(name: String): String, who: String }",
      resolvers: { Query: { hello: (_: unknown, { name }: { name?: string }) => `hello ${name ?? "you"}`, who: (_: unknown, __: unknown, ctx: { who: string }) => ctx.who } },
      plugins: [{ async requestDidStart() { return { async willSendResponse({ response }) { response.http.headers.set("x-answered-by", "test"); } }; } }],
    });
    await apollo.start();
    return startPlainService((app) => {
      app.use("/graphql", express.json(), graphqlHttpHandler(apollo, async ({ req }) => {
        const who = req.header("x-who");
        if (who === "nobody") throw new GraphQLError("who?", { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
        return { who: who ?? "anonymous" };
      }));
    }, () => apollo.stop());
  }

  it("serves POST and GET (query string) with Apollo's status, headers and an exact Content-Length", async () => {
    const service = await startGraphqlService();
    try {
      const post = await fetch(`${service.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-who": "ann" },
        body: JSON.stringify({ query: "query($n: String) { hello(name: $n) who }", variables: { n: "é" } }),
      });
      const postText = await post.text();
      expect(post.status).toBe(200);
      expect(post.headers.get("x-answered-by")).toBe("test");
      expect(post.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(Number(post.headers.get("content-length"))).toBe(Buffer.byteLength(postText));
      expect(JSON.parse(postText)).toEqual({ data: { hello: "hello é", who: "ann" } });
      const get = await fetch(`${service.url}/graphql?query=${encodeURIComponent("{ hello }")}#ignored`, { headers: { "apollo-require-preflight": "1" } });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { hello: "hello you" } });
    } finally {
      await service.shutdown("test done");
    }
  });

  it("answers a context refusal with its HTTP status and a HEAD request without a body", async () => {
    const service = await startGraphqlService();
    try {
      const refused = await fetch(`${service.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", "x-who": "nobody" }, body: JSON.stringify({ query: "{ who }" }) });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ errors: [{ message: "Context creation failed: who?", extensions: { code: "UNAUTHENTICATED" } }] });
      const head = await fetch(`${service.url}/graphql?query=${encodeURIComponent("{ hello }")}`, { method: "HEAD", headers: { "apollo-require-preflight": "1" } });
      expect(await head.text()).toBe("");
    } finally {
      await service.shutdown("test done");
    }
  });

  // url.parse percent-escapes a few characters (' to %27, ...); the parameters Apollo reads are the same.
  it("searchOf gives the query parameters url.parse gave", () => {
    fc.assert(fc.property(fc.webPath(), fc.option(fc.webQueryParameters()), fc.option(fc.webFragments()), fc.constantFrom("?", "#", "?#", "#?", ""), (path, query, fragment, extra) => {
      const url = `${path}${query === null ? "" : `?${query}`}${fragment === null ? "" : `#${fragment}`}${extra}`;
      const params = (search: string) => [...new URLSearchParams(search)];
      expect(params(searchOf(url))).toEqual(params(urlParse(url).search ?? ""));
    }));
  });
});

describe("jsonBody", () => {
  // The same routes behind jsonBody and behind express.json: every answer must be the same.
  async function startBodyService() {
    return startPlainService((app) => {
      const echo = (req: express.Request, res: express.Response) => { res.json({ body: req.body ?? null }); };
      app.post("/fast", jsonBody(64), echo);
      app.post("/general", express.json({ limit: 64 }), echo);
    });
  }
  const post = async (url: string, body: string | Buffer, headers: Record<string, string>) => {
    const res = await fetch(url, { method: "POST", headers, body });
    return { status: res.status, text: await res.text() };
  };

  it("answers every body exactly as express.json does (parsed, 400 invalid JSON, 413 too large)", async () => {
    const service = await startBodyService();
    try {
      const json = fc.json().map((text) => text);
      const bodies = fc.oneof(json, fc.string({ maxLength: 80 }), fc.tuple(fc.constantFrom(" ", "\n", "\uFEFF", ""), json).map(([a, b]) => a + b),
        fc.constantFrom("", "{", "[1,", "nul", "\"x\"", "12", " true", "{\"a\":1}x", "{\"a\":\"é\"}", "x".repeat(65)));
      const types = fc.constantFrom("application/json", "Application/JSON; charset=UTF-8", "application/json;charset=utf-8", "application/json; charset=latin1", "text/plain");
      await fc.assert(fc.asyncProperty(bodies, types, async (body, type) => {
        const headers = { "content-type": type };
        const fast = await post(`${service.url}/fast`, body, headers);
        const general = await post(`${service.url}/general`, body, headers);
        expect(fast).toEqual(general);
      }), { numRuns: 150 });
    } finally {
      await service.shutdown("test done");
    }
  });

  it("reads a body sent in several chunks, multi-byte characters split between them", async () => {
    const service = await startBodyService();
    try {
      const { port } = new URL(service.url);
      const bytes = Buffer.from('{"name":"ééé"}');
      const answer = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/fast", headers: { "content-type": "application/json", "content-length": bytes.length } }, (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (c: string) => { text += c; }).on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.write(bytes.subarray(0, 10)); // cuts the first é in two
        setTimeout(() => req.end(bytes.subarray(10)), 20);
      });
      expect(JSON.parse(answer)).toEqual({ body: { name: "ééé" } });
    } finally {
      await service.shutdown("test done");
    }
  });
});
