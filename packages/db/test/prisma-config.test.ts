import path from "node:path";
import { describe, expect, it } from "vitest";
import { migrationsDirFor, prismaDirFor, schemaPathFor, SUBGRAPHS } from "../src/index.ts";

describe.each(SUBGRAPHS)("prisma/%s/prisma.config.ts", (name) => {
  it("points the real Prisma CLI at this schema and its migrations, with the URL from DATABASE_URL", async () => {
    const { default: config } = (await import(path.join(prismaDirFor(name), "prisma.config.ts"))) as {
      default: { schema: string; migrations: { path: string }; datasource: { url?: string } };
    };
    expect(path.resolve(prismaDirFor(name), config.schema)).toBe(schemaPathFor(name));
    expect(path.resolve(prismaDirFor(name), config.migrations.path)).toBe(migrationsDirFor(name));
    expect(config.datasource.url).toBe(process.env.DATABASE_URL);
  });
});
