import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createAdmission, type AdmissionEnv } from "../src/admission.ts";

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/**
 * A service whose handler blocks until the test releases it, behind admission control;
 * `started` lists the requests whose work began (so a refused one must never appear).
 */
async function gatedService(env: AdmissionEnv) {
  const registry = new Registry();
  const admission = createAdmission(env, registry);
  const started: string[] = [];
  const gates: (() => void)[] = [];
  const app = express();
  app.post("/graphql", admission.middleware, express.json(), async (req, res) => {
    started.push(req.body.id);
    await new Promise<void>((resolve) => gates.push(resolve));
    res.json({ data: { id: req.body.id } });
  });
  const server = http.createServer(app).listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const post = async (id: string) => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id }) });
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() as { data?: unknown; errors?: { extensions: { code: string } }[] } };
  };
  const releaseOne = () => gates.shift()?.();
  const waitUntil = async (what: () => boolean) => {
    for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(what()).toBe(true);
  };
  return { post, started, releaseOne, waitUntil, admission, registry };
}

const env = (overrides: Partial<AdmissionEnv> = {}): AdmissionEnv => ({
  ADMISSION_MAX_CONCURRENT: 1, ADMISSION_MAX_QUEUED: 1, ADMISSION_MAX_QUEUE_WAIT_MS: 5_000, ADMISSION_RETRY_AFTER_S: 2, ...overrides,
});

describe("admission control", () => {
  it("runs up to the limit, queues up to the queue size, and refuses the rest with 503 OVERLOADED + Retry-After before any work", async () => {
    const s = await gatedService(env());
    const first = s.post("a");
    await s.waitUntil(() => s.started.length === 1);
    const second = s.post("b");
    await s.waitUntil(() => s.admission.stats().queued === 1);
    const third = await s.post("c");
    expect(third).toEqual({
      status: 503,
      retryAfter: "2",
      body: { errors: [{ message: "the service is at capacity; retry after 2 s", extensions: { code: "OVERLOADED", retryAfterSeconds: 2 } }] },
    });
    expect(s.started).toEqual(["a"]);
    s.releaseOne();
    expect((await first).body).toEqual({ data: { id: "a" } });
    // The slot passes to the queued request, in order.
    await s.waitUntil(() => s.started.length === 2);
    s.releaseOne();
    expect((await second).body).toEqual({ data: { id: "b" } });
    expect(s.started).toEqual(["a", "b"]);
    expect(s.admission.stats()).toEqual({ running: 0, queued: 0 });
    expect(await s.registry.getSingleMetricAsString("admission_rejected_total")).toContain('admission_rejected_total{reason="queue_full"} 1');
  });

  it("refuses a request that waited longer than ADMISSION_MAX_QUEUE_WAIT_MS without running it; the slot stays usable", async () => {
    const s = await gatedService(env({ ADMISSION_MAX_QUEUE_WAIT_MS: 100 }));
    const first = s.post("a");
    await s.waitUntil(() => s.started.length === 1);
    const late = await s.post("b");
    expect(late.status).toBe(503);
    expect(late.body.errors?.[0]?.extensions.code).toBe("OVERLOADED");
    expect(s.started).toEqual(["a"]);
    s.releaseOne();
    await first;
    const third = s.post("c");
    await s.waitUntil(() => s.started.length === 2);
    s.releaseOne();
    expect((await third).status).toBe(200);
    expect(await s.registry.getSingleMetricAsString("admission_rejected_total")).toContain('admission_rejected_total{reason="queue_timeout"} 1');
  });
});
