import { randomBytes } from "node:crypto";
import { dropDatabase } from "@rentcar/db";
import { startStack, type Stack } from "@rentcar/devstack";
import { signCustomerToken } from "@rentcar/platform";
import { getPort, postGraphQL, uniqueDatabaseUrl, type GraphQLResponse } from "@rentcar/testkit";

export const JWT_SECRET = "e2e-jwt-secret-0123456789abcdef";
export const E2E_INTERNAL_SECRET = "e2e-internal-secret-0123456789";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface TestStack {
  stack: Stack;
  /** BullMQ prefix of this stack's queues. */
  queuePrefix: string;
  databaseUrls: Record<"reservation" | "payment" | "rental", string>;
  /** GraphQL through the router as `customerId` (anonymous when undefined), with extra HTTP `headers` (e.g. Idempotency-Key). */
  gql(customerId: string | undefined, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

/** Starts router + three subgraphs as real processes on free ports, with fresh databases and a unique queue prefix. */
export async function startTestStack(env: Record<string, string> = {}, redisUrl = REDIS_URL): Promise<TestStack> {
  const databaseUrls = { reservation: uniqueDatabaseUrl("reservation"), payment: uniqueDatabaseUrl("payment"), rental: uniqueDatabaseUrl("rental") };
  const queuePrefix = `{rentcar-e2e-${randomBytes(4).toString("hex")}}`;
  const stack = await startStack({
    ports: { router: await getPort(), reservation: await getPort(), payment: await getPort(), rental: await getPort() },
    databaseUrls,
    redisUrl,
    // Rate limits and unpaid holds out of the way of functional tests (each test customer makes many calls and
    // reserves many unpaid cars); edge.test.ts and unpaid-holds.test.ts set their own.
    env: {
      JWT_SECRET, INTERNAL_SECRET: E2E_INTERNAL_SECRET, LOG_LEVEL: "info", NODE_ENV: "development", QUEUE_PREFIX: queuePrefix,
      MAX_UNPAID_HOLDS: "1000", RATE_LIMIT_REQUESTS: "1000000", RATE_LIMIT_MUTATIONS: "1000000", ...env,
    },
  });
  const tokens = new Map<string, string>();
  return {
    stack,
    queuePrefix,
    databaseUrls,
    async gql(customerId, query, variables = {}, extraHeaders = {}) {
      if (customerId && !tokens.has(customerId)) tokens.set(customerId, await signCustomerToken(JWT_SECRET, customerId));
      const headers: Record<string, string> = customerId ? { ...extraHeaders, authorization: `Bearer ${tokens.get(customerId)}` } : extraHeaders;
      return postGraphQL(stack.routerUrl, query, variables, headers);
    },
    async close() {
      await stack.stop();
      await Promise.all(Object.values(databaseUrls).map((url) => dropDatabase(url)));
    },
  };
}

const DAY = 86_400_000;
/** ISO instant `days` from now, on a whole hour (so billed days are exact). */
export const inDays = (days: number) => new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + days * DAY).toISOString();

/** Polls `probe` every 100 ms until it returns a truthy value; fails after `timeoutMs` with the last value seen. */
export async function eventually<T>(probe: () => Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
}
