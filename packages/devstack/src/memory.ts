import { readFileSync } from "node:fs";

/**
 * Resident memory of `pids` and all their descendants, in bytes (Linux `/proc`; 0 elsewhere).
 * Shared pages (e.g. PostgreSQL's shared buffers) count once per process, as `ps` shows them.
 */
export function residentMemory(pids: number[]): number {
  const seen = new Set<number>();
  const visit = (pid: number) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    for (const child of childrenOf(pid)) visit(child);
  };
  pids.forEach(visit);
  let total = 0;
  for (const pid of seen) total += rssOf(pid);
  return total;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
