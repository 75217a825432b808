import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { deadLetterQueueName, queueName } from "@rentcar/events";
import { signCustomerToken } from "@rentcar/platform";
import { postGraphQL } from "@rentcar/testkit";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, inDays } from "./support.ts";
import { repoRoot, startNpmStart, type NpmStart } from "./local-stack.ts";

/**
 * The browser pages of `npm start`, in Debian's Chromium driven by playwright-core:
 * GraphiQL at the router's URL (offline: every request must stay on this machine) and
 * the queue dashboard. Screenshots go to e2e/screenshots/ (git-ignored).
 */
/** The page's DOM, as used inside `page.evaluate` (the e2e package compiles without the DOM lib). */
declare const document: { querySelector(selector: string): unknown; querySelectorAll(selector: string): Iterable<unknown> };

export const SCREENSHOTS = path.join(repoRoot, "e2e", "screenshots");
const CHROMIUM = spawnSync("which", ["chromium"], { encoding: "utf8" }).stdout.trim();
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
const LOCAL_JWT_SECRET = "local-dev-jwt-secret-change-me";
if (!CHROMIUM) console.log("browser tests skipped: no chromium on PATH (apt-get install -y chromium; .ci/run installs it)");

let app: NpmStart;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  [app, browser] = await Promise.all([startNpmStart(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await app?.cleanup();
}, 30_000);

/** The text of the CodeMirror editor whose container matches `selector` (GraphiQL 4 uses CodeMirror 5). */
const editorValue = (page: Page, selector: string) =>
  page.evaluate((sel) => (document.querySelector(`${sel} .CodeMirror`) as unknown as { CodeMirror: { getValue(): string } } | null)?.CodeMirror.getValue() ?? "", selector);
const setEditor = (page: Page, selector: string, text: string) =>
  page.evaluate(([sel, value]) => (document.querySelector(`${sel} .CodeMirror`) as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(value!), [selector, text]);
/** The header editor: the tool editor that holds the Authorization placeholder. */
const setHeaders = (page: Page, text: string) =>
  page.evaluate((value) => {
    const editors = [...document.querySelectorAll(".graphiql-editor-tool .CodeMirror")] as unknown as { CodeMirror: { getValue(): string; setValue(v: string): void } }[];
    const headers = editors.find((e) => e.CodeMirror.getValue().includes("Authorization"));
    if (!headers) throw new Error("header editor not found");
    headers.CodeMirror.setValue(value);
  }, text);
const run = async (page: Page) => {
  await page.waitForTimeout(300); // let GraphiQL's state take the editor change
  await page.click(".graphiql-execute-button");
};
const result = (page: Page) => editorValue(page, ".result-window");
/** Waits for the result pane to satisfy `ok`; on timeout, saves a screenshot and says what the pane showed. */
async function waitForResult(page: Page, what: string, ok: (text: string) => boolean, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => ok(await result(page)), timeoutMs).catch(async () => {
    await page.screenshot({ path: path.join(SCREENSHOTS, "failed.png") });
    throw new Error(`GraphiQL: no ${what} within ${timeoutMs} ms; result pane: ${(await result(page)).slice(0, 500)} (screenshot failed.png)`);
  });
}

describe.skipIf(!CHROMIUM)("browser: GraphiQL and the queue dashboard (Chromium)", () => {
  it("GraphiQL loads offline from the router, runs cars, reserveCar with a token, and shows a live myReservationChanged", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));
    page.on("websocket", (socket) => urls.push(socket.url()));
    // GraphiQL introspects the schema first; running before that finishes can be ignored.
    const introspected = page.waitForResponse((r) => r.request().method() === "POST" && (r.request().postData() ?? "").includes("IntrospectionQuery"), { timeout: 30_000 });
    await page.goto(`http://127.0.0.1:${app.port}/graphql`);
    await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 30_000 });
    expect((await introspected).status()).toBe(200);
    expect(await editorValue(page, ".graphiql-query-editor")).toContain("query Cars");
    expect(await page.textContent("#token-help")).toContain("npm run -s token -- alice");

    await setEditor(page, ".graphiql-query-editor", "query Cars { cars { id model dailyRate } }");
    await run(page);
    await waitForResult(page, "cars", (text) => text.includes("car-001"));
    await page.screenshot({ path: path.join(SCREENSHOTS, "graphiql-cars.png") });

    const token = await signCustomerToken(LOCAL_JWT_SECRET, "browser-alice");
    await setHeaders(page, JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
    await setEditor(page, ".graphiql-query-editor", `mutation Reserve {
  reserveCar(input: { carId: "car-005", pickupAt: "${inDays(5)}", returnAt: "${inDays(7)}" }) { id status amount car { model } }
}`);
    await run(page);
    await waitForResult(page, "reservation", (text) => /"status": "(RESERVED|PAYMENT_DELAYED)"/.test(text));
    await page.screenshot({ path: path.join(SCREENSHOTS, "graphiql-reserve.png") });

    await setEditor(page, ".graphiql-query-editor", "subscription MyChanges { myReservationChanged { reservationId status version } }");
    await run(page);
    // Subscribed when the router has the socket; then a change must appear live.
    await eventually(async () => urls.some((u) => u.startsWith("ws://")), 10_000).catch(async (error) => {
      await page.screenshot({ path: path.join(SCREENSHOTS, "debug.png") });
      throw new Error(`${error.message}; result: ${await result(page)}; urls: ${urls.join(" ")}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const reserved = await postGraphQL(
      `http://127.0.0.1:${app.port}/graphql`,
      `mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id } }`,
      { input: { carId: "car-006", pickupAt: inDays(5), returnAt: inDays(7) } },
      { authorization: `Bearer ${token}` },
    );
    const id = (reserved.data as { reserveCar: { id: string } }).reserveCar.id;
    await waitForResult(page, `myReservationChanged for ${id}`, (text) => text.includes(id));
    expect(await result(page)).toContain('"myReservationChanged"');
    await page.screenshot({ path: path.join(SCREENSHOTS, "graphiql-subscription.png") });

    const external = urls.filter((url) => !/^(https?|wss?):\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url) && !url.startsWith("data:"));
    expect(external).toEqual([]);
    expect(urls.some((u) => u.endsWith("/graphql/ide/graphiql.js"))).toBe(true);
    await page.close();
  }, 120_000);

  it("the dashboard asks for credentials, lists every queue and dead-letter queue, and shows a dead letter with its reason", async () => {
    const dashboardUrl = `http://127.0.0.1:${app.port + 4}/queues`;
    expect((await fetch(dashboardUrl)).status).toBe(401);

    // An invalid event on payment's queue: the consumer dead-letters it with the reason.
    const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const queue = new Queue(queueName("payment"), { connection, prefix: app.queuePrefix });
    const dlq = new Queue(deadLetterQueueName("payment"), { connection, prefix: app.queuePrefix });
    try {
      await queue.add("PaymentRegistrationRequested", { type: "PaymentRegistrationRequested", eventId: "not-a-uuid" }, { jobId: "browser-invalid-event" });
      await eventually(async () => (await dlq.count()) > 0, 30_000);
    } finally {
      await Promise.all([queue.close(), dlq.close()]);
      connection.disconnect();
    }

    const context = await browser.newContext({ httpCredentials: { username: "operator", password: "local-dashboard-password" }, viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(dashboardUrl);
    for (const name of ["reservation-events", "payment-events", "rental-events", "payment-events-dead-letter"]) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard-queues.png") });

    await page.goto(`${dashboardUrl}/queue/payment-events-dead-letter?status=waiting`);
    await page.getByText("invalid event", { exact: false }).first().waitFor({ timeout: 30_000 }).catch(async () => {
      // The reason is in the job's data: open the first job if the list shows it collapsed.
      await page.getByText("dead-letter").first().click();
      await page.getByText("invalid event", { exact: false }).first().waitFor({ timeout: 15_000 });
    });
    await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard-dead-letter.png") });

    // Replaying from the page does what the CLI does: back onto payment-events (still invalid: dead-lettered again).
    await page.goto(`http://127.0.0.1:${app.port + 4}/operator/replay`);
    await page.click('button[data-consumer="payment"]');
    await page.getByText(/replayed 1 dead letter\(s\) of payment/).waitFor({ timeout: 15_000 });
    expect(await page.request.post(`http://127.0.0.1:${app.port + 4}/operator/replay/payment`).then((r) => r.status())).toBe(403); // no operator header: refused
    await context.close();
  }, 120_000);
});
