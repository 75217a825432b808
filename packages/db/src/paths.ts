import { fileURLToPath } from "node:url";
import path from "node:path";

/** The subgraphs that own a database, in the order `db:migrate` handles them. */
export const SUBGRAPHS = ["reservation", "payment", "rental"] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** Absolute path of the monorepo root (this file is `packages/db/src/paths.ts`). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** `prisma/<name>`: the folder holding a subgraph's schema and migrations. */
export function prismaDirFor(name: string): string {
  return path.join(repoRoot, "prisma", name);
}

/** `prisma/<name>/schema.prisma` from the repo root. */
export function schemaPathFor(name: string): string {
  return path.join(prismaDirFor(name), "schema.prisma");
}

/** `prisma/<name>/migrations` from the repo root. */
export function migrationsDirFor(name: string): string {
  return path.join(prismaDirFor(name), "migrations");
}

/** Narrows a command-line argument to a subgraph name; throws listing the valid ones. */
export function parseSubgraphName(value: string): SubgraphName {
  const name = SUBGRAPHS.find((known) => known === value);
  if (!name) throw new Error(`Unknown subgraph "${value}" (expected one of: ${SUBGRAPHS.join(", ")})`);
  return name;
}
