import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import { deadLetterQueueName, queueName, replayDeadLetters, toolConnection, type ConsumerName } from "@rentcar/events";
import { Queue } from "bullmq";
import express from "express";

const CONSUMERS: readonly ConsumerName[] = ["reservation", "payment", "rental"];
const BOARD_PATH = "/queues";
const REPLAY_PATH = "/operator/replay";
/** Header a replay POST must carry: a cross-site form cannot set it, and a cross-origin fetch would need a preflight we never grant. */
export const REPLAY_HEADER = "x-rentcar-operator";

export interface QueueDashboardOptions {
  redisUrl: string;
  /** BullMQ key prefix of the queues (QUEUE_PREFIX). */
  prefix: string;
  port: number;
  host?: string;
  /** Basic-auth credentials every page and API call needs (except the health routes). */
  user: string;
  password: string;
}

export interface QueueDashboard {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/**
 * The operator's web view of the event queues: bull-board for every consumer queue and
 * its dead-letter queue (jobs, failures with their reasons, retry of failed jobs), plus a
 * "Replay dead letters" page doing exactly what `npm run queues -- replay-dead-letters`
 * does. Both are safe to use on a live system: consumers are idempotent (inbox), so an
 * event already applied has no second effect. Everything but `/health/*` needs the
 * credentials (HTTP basic auth); responses forbid loading anything from elsewhere.
 */
export async function startQueueDashboard(options: QueueDashboardOptions): Promise<QueueDashboard> {
  const connection = toolConnection(options.redisUrl);
  connection.on("error", () => {}); // reported by /health/ready and by the failing request
  const open = (name: string) => new Queue(name, { connection, prefix: options.prefix });
  const deadLetterQueues = new Map(CONSUMERS.map((consumer) => [consumer, open(deadLetterQueueName(consumer))]));
  const queues = CONSUMERS.flatMap((consumer) => [
    new BullMQAdapter(open(queueName(consumer)), {
      description: `Events for the ${consumer} subgraph. Retrying a failed job is safe: the inbox applies an event once.`,
    }),
    new BullMQAdapter(deadLetterQueues.get(consumer)!, {
      allowRetries: false,
      description: `Dead letters of ${queueName(consumer)}, each with its reason. Put them back with "Replay dead letters" (safe: the inbox).`,
    }),
  ]);
  const board = new ExpressAdapter();
  board.setBasePath(BOARD_PATH);
  createBullBoard({
    queues,
    serverAdapter: board,
    options: { uiConfig: { boardTitle: "Rentcar queues", hideDocsLink: true, miscLinks: [{ text: "Replay dead letters", url: REPLAY_PATH }] } },
  });

  const app = express();
  app.disable("x-powered-by");
  app.get("/health/live", (_req, res) => void res.json({ status: "ok" }));
  app.get("/health/ready", async (_req, res) => {
    const ok = await connection.ping().then(() => true, () => false);
    res.status(ok ? 200 : 503).json({ ready: ok, checks: { redis: ok ? "ok" : "down" } });
  });
  app.use(basicAuth(options.user, options.password));
  app.use((_req, res, next) => {
    // bull-board's page asks Google Fonts for its font: forbidden here, it falls back to system fonts.
    res.setHeader("content-security-policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'");
    next();
  });
  app.get("/", (_req, res) => res.redirect(BOARD_PATH));
  app.get(REPLAY_PATH, async (_req, res) => {
    try {
      const counts = await Promise.all(CONSUMERS.map(async (c) => [c, await deadLetterQueues.get(c)!.count()] as const));
      res.type("html").send(replayPage(counts));
    } catch (error) {
      res.status(503).type("text/plain").send(`Redis: ${(error as Error).message}`);
    }
  });
  app.get(`${REPLAY_PATH}.js`, (_req, res) => void res.type("text/javascript").send(REPLAY_SCRIPT));
  app.post(`${REPLAY_PATH}/:consumer`, async (req, res) => {
    const consumer = req.params.consumer as ConsumerName;
    if (!CONSUMERS.includes(consumer)) return void res.status(404).json({ error: "unknown consumer" });
    if (req.get(REPLAY_HEADER) !== "replay") return void res.status(403).json({ error: `missing ${REPLAY_HEADER} header` });
    try {
      res.json({ consumer, replayed: await replayDeadLetters(connection, options.prefix, consumer) });
    } catch (error) {
      res.status(503).json({ error: `Redis: ${(error as Error).message}` });
    }
  });
  app.use(BOARD_PATH, board.getRouter());

  const server = app.listen(options.port, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${BOARD_PATH}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      connection.disconnect();
    },
  };
}

/** HTTP basic auth against fixed credentials, compared in constant time. */
function basicAuth(user: string, password: string): express.RequestHandler {
  const expected = digest(`${user}:${password}`);
  return (req, res, next) => {
    const header = req.get("authorization") ?? "";
    const given = header.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString("utf8") : "";
    if (given && timingSafeEqual(digest(given), expected)) return next();
    res.setHeader("www-authenticate", 'Basic realm="rentcar queues", charset="UTF-8"');
    res.status(401).type("text/plain").send("operator credentials required (QUEUE_DASHBOARD_USER / QUEUE_DASHBOARD_PASSWORD)");
  };
}

const digest = (text: string) => createHash("sha256").update(text).digest();

function replayPage(counts: (readonly [ConsumerName, number])[]): string {
  const rows = counts
    .map(([c, n]) => `<tr><td>${deadLetterQueueName(c)}</td><td data-count="${c}">${n}</td><td><button data-consumer="${c}">Replay onto ${queueName(c)}</button></td></tr>`)
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Replay dead letters</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{padding:.3rem .8rem;text-align:left}</style></head>
<body><h1>Replay dead letters</h1>
<p>Puts every dead letter back on its queue, like <code>npm run queues -- replay-dead-letters &lt;consumer&gt;</code>.
Safe: consumers record each event in their inbox, so an event already applied has no second effect; one still invalid is dead-lettered again.</p>
<table><tr><th>dead-letter queue</th><th>letters</th><th></th></tr>${rows}</table>
<p id="result" role="status"></p><p><a href="${BOARD_PATH}">Back to the queues</a></p>
<script src="${REPLAY_PATH}.js"></script></body></html>`;
}

const REPLAY_SCRIPT = `
for (const button of document.querySelectorAll("button[data-consumer]")) {
  button.addEventListener("click", async () => {
    const consumer = button.dataset.consumer;
    const res = await fetch("${REPLAY_PATH}/" + consumer, { method: "POST", headers: { "${REPLAY_HEADER}": "replay" } });
    const body = await res.json();
    document.getElementById("result").textContent = res.ok ? "replayed " + body.replayed + " dead letter(s) of " + consumer : "failed: " + body.error;
    if (res.ok) document.querySelector('[data-count="' + consumer + '"]').textContent = "0";
  });
}`;
