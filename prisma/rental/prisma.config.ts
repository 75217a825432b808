// Config for running the real Prisma CLI on this schema, e.g. in production:
//   DATABASE_URL=postgresql://... npx prisma migrate deploy --config prisma/<subgraph>/prisma.config.ts
// Day to day, use the offline tooling of @rentcar/db instead (no Prisma engine binary needed):
//   npm run db:migrate, npm run db:migrate:new -- <subgraph> <name>, npm run generate.
// Paths are relative to this file.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  datasource: { url: process.env.DATABASE_URL },
});
