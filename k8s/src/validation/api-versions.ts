/**
 * The API versions these manifests may use: all served by Kubernetes 1.25 and
 * later (none deprecated). kubernetes-models also carries schemas of removed
 * versions (e.g. policy/v1beta1), so schema validation alone would accept them.
 */
export const ALLOWED_API_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  v1: ["Namespace", "ConfigMap", "Secret", "Service", "ServiceAccount", "PersistentVolumeClaim"],
  "apps/v1": ["Deployment", "StatefulSet"],
  "batch/v1": ["Job", "CronJob"],
  "autoscaling/v2": ["HorizontalPodAutoscaler"],
  "policy/v1": ["PodDisruptionBudget"],
  "networking.k8s.io/v1": ["Ingress", "NetworkPolicy"],
};

/**
 * The Kubernetes release whose OpenAPI spec kubernetes-models 5.x was generated
 * from (its 5.0.0 changelog: "Update to Kubernetes v1.36.0"), merged with older
 * specs for APIs removed since.
 */
export const SCHEMA_KUBERNETES_VERSION = "1.36";

/** The kubernetes-models module exporting the model classes of an apiVersion. */
export function modelModuleFor(apiVersion: string): string {
  return `kubernetes-models/${apiVersion}`;
}
