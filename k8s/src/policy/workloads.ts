import { isMap, objectId, type JsonMap, type KubeObject } from "../kube-object.ts";
import { containersOf, podSpecOf } from "../pod-specs.ts";

/** A workload object with its pod template. */
export interface Workload {
  object: KubeObject;
  id: string;
  podSpec: JsonMap;
  podLabels: Record<string, string>;
}

/** Every object that owns a pod template (Deployments, StatefulSets, Jobs, ...). */
export function workloadsOf(objects: KubeObject[]): Workload[] {
  const found: Workload[] = [];
  for (const object of objects) {
    const podSpec = podSpecOf(object);
    if (!podSpec) continue;
    const spec = object.spec as JsonMap;
    const template = object.kind === "CronJob" ? ((spec.jobTemplate as JsonMap).spec as JsonMap).template : spec.template;
    const metadata = isMap(template) && isMap(template.metadata) ? template.metadata : {};
    found.push({ object, id: objectId(object), podSpec, podLabels: (metadata.labels ?? {}) as Record<string, string> });
  }
  return found;
}

/** A container of a workload, with a printable location. */
export interface ContainerRef {
  workload: Workload;
  list: "initContainers" | "containers" | "ephemeralContainers";
  container: JsonMap;
  where: string;
}

/** Every container of every workload. */
export function containersOfWorkloads(objects: KubeObject[]): ContainerRef[] {
  return workloadsOf(objects).flatMap((workload) =>
    containersOf(workload.podSpec).map(({ list, container }) => ({
      workload,
      list,
      container,
      where: `${workload.id} ${list === "containers" ? "container" : list === "initContainers" ? "init container" : "ephemeral container"} ${String(container.name)}`,
    })));
}

/** Objects of one kind. */
export function ofKind(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

/** A label selector (matchLabels + matchExpressions), as used by workloads, PDBs and NetworkPolicies. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }>;
}

/** Whether `labels` satisfy `selector` (an empty selector matches everything). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key] as string;
    if (operator === "In" && !(has && values.includes(value))) return false;
    if (operator === "NotIn" && has && values.includes(value)) return false;
    if (operator === "Exists" && !has) return false;
    if (operator === "DoesNotExist" && has) return false;
  }
  return true;
}
