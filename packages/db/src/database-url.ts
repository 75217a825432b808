import type { SubgraphName } from "./paths.ts";

/**
 * The database URL of a subgraph's database for the tooling: `<NAME>_DATABASE_URL`
 * (e.g. `RESERVATION_DATABASE_URL`), else `DATABASE_URL` when this subgraph is the
 * only one being handled (how the Kubernetes migration Job calls `db:migrate`), else
 * the local default `postgresql://postgres@127.0.0.1:5432/rentcar_<name>`.
 */
export function databaseUrlFor(name: SubgraphName, env: NodeJS.ProcessEnv, onlyOne: boolean): string {
  return (
    env[`${name.toUpperCase()}_DATABASE_URL`] ||
    (onlyOne ? env.DATABASE_URL : undefined) ||
    `postgresql://postgres@127.0.0.1:5432/rentcar_${name}`
  );
}

/** The URL with its password replaced by `***`, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid URL>";
  }
}
