import { groupVersion, type KubeObject } from "../kube-object.ts";

// kustomize's legacy output order (api/resid/gvk.go), the default of
// `kustomize build` and `kubectl apply -k`: namespaces and config first, webhooks last.
const ORDER_FIRST = [
  "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
  "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
  "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
  "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
];
const ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

function rank(kind: string): number {
  const first = ORDER_FIRST.indexOf(kind);
  if (first >= 0) return first;
  const last = ORDER_LAST.indexOf(kind);
  return last >= 0 ? ORDER_FIRST.length + 1 + last : ORDER_FIRST.length;
}

function gvkString(object: KubeObject): string {
  const { group, version } = groupVersion(object.apiVersion);
  return `${group || "~G"}_${version || "~V"}_${object.kind}`;
}

/** Go's string comparison: by code unit, not by locale (so "B" < "a", "-" < "a"). */
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts rendered objects in kustomize's legacy order (kind rank, then GVK, then namespace/name). */
export function sortLegacy(objects: KubeObject[]): KubeObject[] {
  return [...objects].sort((a, b) =>
    rank(a.kind) - rank(b.kind)
    || byteOrder(gvkString(a), gvkString(b))
    || byteOrder(`${a.metadata.namespace ?? ""}/${a.metadata.name}`, `${b.metadata.namespace ?? ""}/${b.metadata.name}`));
}
