import { isMap, type JsonMap, type KubeObject } from "./kube-object.ts";

/** Where each workload kind keeps its pod template's spec. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The three container lists of a pod spec. */
export const CONTAINER_LISTS = ["initContainers", "containers", "ephemeralContainers"] as const;

/** The pod spec of a workload object, or undefined for other kinds (or a missing spec). */
export function podSpecOf(object: KubeObject): JsonMap | undefined {
  const path = POD_SPEC_PATHS[object.kind];
  if (!path) return undefined;
  let node: unknown = object;
  for (const key of path) node = isMap(node) ? node[key] : undefined;
  return isMap(node) ? node : undefined;
}

/** Every container (init, regular and ephemeral) of a pod spec, with the list it is in. */
export function containersOf(podSpec: JsonMap): Array<{ list: (typeof CONTAINER_LISTS)[number]; container: JsonMap }> {
  const found: Array<{ list: (typeof CONTAINER_LISTS)[number]; container: JsonMap }> = [];
  for (const list of CONTAINER_LISTS) {
    const containers = podSpec[list];
    if (!Array.isArray(containers)) continue;
    for (const container of containers) if (isMap(container)) found.push({ list, container });
  }
  return found;
}
