import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPrismaAdapter,
  ensureDatabase,
  generateClient,
  migrateDatabase,
  migrationsDirFor,
  schemaPathFor,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from "../src/index.ts";
import { freePort, scratchSpace } from "./helpers.ts";

// The client is generated inside the package (gitignored) so it resolves @prisma/client.
const outputDir = path.join(import.meta.dirname, ".generated", "payment");
const scratch = scratchSpace();
let embedded: EmbeddedPostgres | undefined;

/** The few members of the generated PaymentClient this test uses. */
interface PaymentClient {
  payment: {
    create(args: { data: Record<string, unknown> }): Promise<{ id: string; status: string; amount: number }>;
    findUniqueOrThrow(args: { where: { reservationId: string } }): Promise<{ id: string; status: string }>;
  };
  $disconnect(): Promise<void>;
}

/** Generates the payment client into `outputDir` from a copy of the schema whose `output` points there. */
async function generatePaymentClient(): Promise<void> {
  await mkdir(outputDir, { recursive: true });
  const schema = (await readFile(schemaPathFor("payment"), "utf8")).replace(/output\s*=\s*".*"/, 'output = "./client"');
  const schemaPath = path.join(outputDir, "schema.prisma");
  await writeFile(schemaPath, schema);
  generateClient(schemaPath);
}

/** Where the client is tried: the shared server and the embedded one `npm start` runs. */
const targets = [
  { name: "PostgreSQL", max: 2, url: async () => scratch.database() },
  {
    name: "embedded PostgreSQL",
    max: 2,
    url: async () => {
      const dir = await scratch.dir("embedded-pg");
      await chmod(dir, 0o755); // the server runs as user postgres when we are root
      embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, "data"), port: await freePort() });
      return embedded.urlFor("rentcar_payment");
    },
  },
];

beforeAll(() => generatePaymentClient());
afterAll(async () => {
  await embedded?.stop();
  await scratch.cleanup();
});

describe.each(targets)("generated Prisma client + createPrismaAdapter on $name", ({ max, url: makeUrl }) => {
  it("writes and reads through the driver adapter against a migrated database", async () => {
    const url = await makeUrl();
    await ensureDatabase(url);
    await migrateDatabase({ databaseUrl: url, migrationsDir: migrationsDirFor("payment") });
    const { PrismaClient } = (await import(path.join(outputDir, "client", "client.ts"))) as {
      PrismaClient: new (options: { adapter: unknown }) => PaymentClient;
    };
    const statements: string[] = [];
    const prisma = new PrismaClient({ adapter: createPrismaAdapter(url, { max, onStatement: (sql) => statements.push(sql) }) });
    try {
      const reservationId = "00000000-0000-4000-8000-000000000001";
      const created = await prisma.payment.create({ data: { reservationId, customerId: "customer-1", amount: 90000 } });
      expect(created).toMatchObject({ status: "REQUESTED", amount: 90000 });
      expect(await prisma.payment.findUniqueOrThrow({ where: { reservationId } })).toMatchObject({ id: created.id });
      // Every statement is reported (what db_statements_total on /metrics counts).
      expect(statements.some((sql) => /^INSERT INTO "public"."payment"/.test(sql))).toBe(true);
      expect(statements.some((sql) => /^SELECT .* FROM "public"."payment"/.test(sql))).toBe(true);
    } finally {
      await prisma.$disconnect();
    }
  });
});
