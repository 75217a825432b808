import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { postGraphQL } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inDays, eventually } from "./support.ts";
import { isAlive, listenerPid, repoRoot, runTool, startNpmStart, type NpmStart } from "./local-stack.ts";

/**
 * `npm start` as a user runs it, on non-default ports (PORT=<random>), with the tools that
 * must follow its configuration without being told the ports: token, watch, queues,
 * projection:rebuild. Then a crash (restarted with backoff) and SIGTERM to npm (everything
 * stops, the state file is removed).
 */
let app: NpmStart;
beforeAll(async () => {
  app = await startNpmStart();
}, 180_000);
afterAll(async () => app?.cleanup(), 30_000);

const base = () => `http://127.0.0.1:${app.port}`;

describe("npm start on PORT=<non-default>", () => {
  it("prints where everything is, and listens on 127.0.0.1 only", () => {
    const out = app.output();
    expect(out).toMatch(/Supergraph ready in \d+\.\d s \((cold|warm)/);
    expect(out).toContain(`Router:   ${base()}/graphql`);
    expect(out).toMatch(/Memory: +\d+ MB resident/);
    for (const port of [app.port, app.port + 1, app.port + 2, app.port + 3, app.port + 5]) {
      expect(listenerPid(port), `port ${port}`).toBeDefined();
    }
  });

  it("token, watch, queues and projection:rebuild follow the running stack without being given its ports", async () => {
    const token = await runTool(["token", "--", "alice"], app.toolEnv);
    expect(token.code).toBe(0);
    const bearer = token.stdout.trim();

    const watch = spawn("npm", ["run", "-s", "watch", "--", "alice"], { cwd: repoRoot, env: app.toolEnv, stdio: ["ignore", "pipe", "pipe"] });
    let watched = "";
    watch.stdout.setEncoding("utf8").on("data", (c: string) => (watched += c));
    watch.stderr.setEncoding("utf8").on("data", (c: string) => (watched += c));
    try {
      await eventually(async () => watched.includes("watching alice's reservations"), 30_000);
      expect(watched).toContain(`ws://127.0.0.1:${app.port}/graphql`);
      // "watching" prints on connection_ack; give the router a moment to register the subscription itself.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // The subscription may register at the router a moment after connection_ack; a reservation
      // made before that is not pushed (live changes only), so reserve again until one arrives.
      const seen: string[] = [];
      for (let attempt = 0; attempt < 3 && seen.length === 0; attempt++) { // 3: MAX_UNPAID_HOLDS
        const reserved = await postGraphQL(
          `${base()}/graphql`,
          `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status } }`,
          { input: { carId: `car-01${attempt}`, pickupAt: inDays(3), returnAt: inDays(4) } },
          { authorization: `Bearer ${bearer}` },
        );
        const id = (reserved.data as { reserveCar: { id: string } }).reserveCar.id;
        await eventually(async () => watched.includes(id), 20_000).then(() => seen.push(id), () => {});
      }
      expect(seen, `watch printed:\n${watched}`).toHaveLength(1);
    } finally {
      watch.kill("SIGINT");
      const [code] = (await once(watch, "exit")) as [number | null];
      expect(code).not.toBeNull(); // exited by itself on Ctrl-C
    }

    const queues = await runTool(["queues"], app.toolEnv);
    expect(queues.code).toBe(0);
    expect(queues.stdout).toContain(`prefix "${app.queuePrefix}"`);

    const rebuild = await runTool(["projection:rebuild"], app.toolEnv);
    expect(rebuild.stderr + rebuild.stdout).toMatch(/projection rebuilt: \d+ reservations checked/);
    expect(rebuild.code).toBe(0);
  }, 240_000);

  it("restarts a crashed service with backoff", async () => {
    const paymentPort = app.port + 2;
    const victim = listenerPid(paymentPort)!;
    const from = app.output().length;
    process.kill(victim, "SIGKILL");
    await app.waitForOutput(/payment exited unexpectedly \(SIGKILL\); restarting in 1\.0 s/, 10_000, from);
    await app.waitForOutput("payment ready", 60_000, from);
    const replacement = listenerPid(paymentPort);
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(victim);
    expect((await fetch(`http://127.0.0.1:${paymentPort}/health/ready`)).status).toBe(200);
  }, 90_000);

  it("SIGTERM to the npm process stops every service and the database within 10 s and removes its state file", async () => {
    const stateFile = path.join(app.dataDir, "stack.json");
    expect(existsSync(stateFile)).toBe(true);
    const ports = [app.port, app.port + 1, app.port + 2, app.port + 3];
    const pids = [...ports.map(listenerPid), Number(readFileSync(path.join(app.dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0])];
    expect(pids.every((pid) => pid && isAlive(pid))).toBe(true);
    const t0 = Date.now();
    app.npm.kill("SIGTERM");
    await once(app.npm, "exit");
    await eventually(async () => pids.every((pid) => !isAlive(pid!)), 10_000 - (Date.now() - t0));
    expect(existsSync(stateFile)).toBe(false);
    expect(app.output()).toContain("[stack      ] stopped");
  }, 30_000);
});
