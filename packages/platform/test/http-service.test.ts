import { setTimeout as sleep } from "node:timers/promises";
import express from "express";
import { describe, expect, it } from "vitest";
import { startHttpService } from "../src/http-service.ts";
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
