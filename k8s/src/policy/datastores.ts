import { posix } from "node:path";
import { isMap, type JsonMap, type KubeObject } from "../kube-object.ts";
import { workloadsOf, type Workload } from "./workloads.ts";

/** The subgraphs, each with its own PostgreSQL database. */
export const SUBGRAPH_NAMES = ["reservation", "payment", "rental"] as const;

/**
 * In-cluster datastores of the local overlay: one PostgreSQL StatefulSet per
 * subgraph (database rentcar_<subgraph>) and one Redis, each keeping its data on a
 * PersistentVolumeClaim from its volumeClaimTemplates.
 */
export function inClusterDatastoreViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  const statefulSets = workloadsOf(objects).filter((w) => w.object.kind === "StatefulSet");
  const expected = [...SUBGRAPH_NAMES.map((name) => `postgres-${name}`), "redis"];
  for (const name of expected) {
    const workload = statefulSets.find((w) => w.object.metadata.name === name);
    if (!workload) {
      violations.push(`no StatefulSet ${name}`);
      continue;
    }
    violations.push(...persistentVolumeViolations(workload));
    if (name.startsWith("postgres-")) {
      const container = (workload.podSpec.containers as JsonMap[])[0] ?? {};
      const db = ((container.env as JsonMap[]) ?? []).find((e) => e.name === "POSTGRES_DB");
      if (db?.value !== `rentcar_${name.slice("postgres-".length)}`) violations.push(`${workload.id}: POSTGRES_DB is not rentcar_${name.slice("postgres-".length)}`);
    }
  }
  return violations;
}

function persistentVolumeViolations(workload: Workload): string[] {
  const spec = workload.object.spec as JsonMap;
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.filter(isMap) : [];
  if (claims.length === 0) return [`${workload.id}: no volumeClaimTemplates (data would not survive a restart)`];
  const mounted = ((workload.podSpec.containers as JsonMap[]) ?? []).flatMap((c) => ((c.volumeMounts as JsonMap[]) ?? []).map((m) => m.name));
  return claims.filter((claim) => !mounted.includes((claim.metadata as JsonMap | undefined)?.name)).map((claim) => `${workload.id}: claim ${String((claim.metadata as JsonMap).name)} is not mounted`);
}

/**
 * The directives of the redis.conf the in-cluster Redis starts with: the file its
 * command names, read from the ConfigMap mounted at that directory.
 * @throws Error when the Redis StatefulSet or its configuration cannot be traced.
 */
export function redisConfigOf(objects: KubeObject[]): Map<string, string> {
  const redis = workloadsOf(objects).find((w) => w.object.kind === "StatefulSet" && w.object.metadata.name === "redis");
  const container = redis && ((redis.podSpec.containers as JsonMap[]) ?? []).find((c) => c.name === "redis");
  if (!redis || !container) throw new Error("no redis StatefulSet");
  const command = [...((container.command as string[]) ?? []), ...((container.args as string[]) ?? [])];
  const confPath = command[0] === "redis-server" ? command[1] : undefined;
  if (!confPath?.endsWith(".conf")) throw new Error(`redis does not start from a config file: ${JSON.stringify(command)}`);
  const mount = ((container.volumeMounts as JsonMap[]) ?? []).find((m) => m.mountPath === posix.dirname(confPath));
  const volume = ((redis.podSpec.volumes as JsonMap[]) ?? []).find((v) => v.name === mount?.name);
  const configMapName = isMap(volume?.configMap) ? volume.configMap.name : undefined;
  const data = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === configMapName)?.data as Record<string, string> | undefined;
  const text = data?.[posix.basename(confPath)];
  if (text === undefined) throw new Error(`${confPath} is not a key of a mounted ConfigMap`);
  const directives = new Map<string, string>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const [key, ...value] = trimmed.split(/\s+/);
    directives.set((key as string).toLowerCase(), value.join(" "));
  }
  // Extra command-line options override the file (redis-server <conf> --key value).
  for (let i = 2; i + 1 < command.length; i += 2) directives.set(String(command[i]).replace(/^--/, "").toLowerCase(), String(command[i + 1]));
  return directives;
}
