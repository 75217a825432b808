import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Writes `files` (relative path -> content) under a fresh temporary directory and returns it. */
export function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "rentcar-k8s-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** A throwaway copy of a directory (for tests that break manifests on purpose). */
export function copyTree(source: string, only: string[]): string {
  const root = mkdtempSync(join(tmpdir(), "rentcar-k8s-copy-"));
  for (const entry of only) cpSync(join(source, entry), join(root, entry), { recursive: true });
  return root;
}

/**
 * Replaces `search` by `replacement` in `root/path`.
 * @throws Error when `search` does not occur (so a test cannot silently break nothing).
 */
export function editFile(root: string, path: string, search: string | RegExp, replacement: string): void {
  const file = join(root, path);
  const text = readFileSync(file, "utf8");
  const next = text.replace(search, replacement);
  if (next === text) throw new Error(`${path}: ${String(search)} not found`);
  writeFileSync(file, next);
}

/** Removes a temporary tree. */
export function removeTree(root: string): void {
  rmSync(root, { recursive: true, force: true });
}
