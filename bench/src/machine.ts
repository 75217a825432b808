import { cpus, freemem, loadavg, totalmem } from "node:os";
import { readdirSync, readFileSync } from "node:fs";

/** The machine a result was measured on (printed above every results table). */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  nodeVersion: string;
  platform: string;
  /** 1-minute load average at the start: above `cores`, other work competed for the CPU. */
  loadAverage1m: number;
  postgres?: string;
  redis?: string;
}

/** CPU model, cores, memory, Node version and load of this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    nodeVersion: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/** Resident set size of a process in MB (Linux `/proc`), undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round(Number(match[1]) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux `/proc`), undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) used so far by every process whose command name is `command`
 * (e.g. all `postgres` backends, `redis-server`), in ms (Linux `/proc`). Backends that
 * exited in between are not counted, so this is a lower bound over an interval.
 */
export function commandCpuMs(command: string): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (name !== command) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      // the process ended while we read it
    }
  }
  return total;
}

/** CPU time the whole machine has been busy (all cores, everything but idle and iowait), in ms (Linux `/proc/stat`). */
export function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / 100;
}
