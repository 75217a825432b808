import { isMap, objectId, type JsonMap, type KubeObject } from "../kube-object.ts";
import { effectiveEnv, type SecretCatalog } from "./container-env.ts";
import { ofKind, selectorMatches, workloadsOf, type LabelSelector } from "./workloads.ts";

/**
 * Every Deployment has exactly one autoscaling/v2 HorizontalPodAutoscaler scaling
 * it on CPU utilisation with `minReplicas` >= `options.minReplicas`, and exactly one
 * PodDisruptionBudget selecting its pods (and no other workload's) that still lets
 * a node drain proceed. No HPA or PDB is left pointing at nothing.
 */
export function scalingViolations(objects: KubeObject[], options: { minReplicas: number }): string[] {
  const violations: string[] = [];
  const workloads = workloadsOf(objects);
  const deployments = workloads.filter((w) => w.object.kind === "Deployment");
  const hpas = ofKind(objects, "HorizontalPodAutoscaler");
  const pdbs = ofKind(objects, "PodDisruptionBudget");

  for (const hpa of hpas) {
    const spec = hpa.spec as JsonMap;
    const target = spec.scaleTargetRef as JsonMap;
    if (hpa.apiVersion !== "autoscaling/v2") violations.push(`${objectId(hpa)}: not autoscaling/v2`);
    if (!deployments.some((d) => target.kind === "Deployment" && target.apiVersion === "apps/v1" && d.object.metadata.name === target.name && d.object.metadata.namespace === hpa.metadata.namespace)) {
      violations.push(`${objectId(hpa)}: scaleTargetRef ${String(target.kind)}/${String(target.name)} is not a Deployment of this render`);
    }
    const min = Number(spec.minReplicas ?? 1);
    const max = Number(spec.maxReplicas);
    if (min < options.minReplicas) violations.push(`${objectId(hpa)}: minReplicas ${min} < ${options.minReplicas}`);
    if (!(max >= min)) violations.push(`${objectId(hpa)}: maxReplicas ${max} < minReplicas ${min}`);
    const metrics = Array.isArray(spec.metrics) ? spec.metrics.filter(isMap) : [];
    const cpu = metrics.find((m) => m.type === "Resource" && isMap(m.resource) && m.resource.name === "cpu");
    const target0 = cpu && isMap(cpu.resource) && isMap(cpu.resource.target) ? cpu.resource.target : undefined;
    if (!target0 || target0.type !== "Utilization" || typeof target0.averageUtilization !== "number") {
      violations.push(`${objectId(hpa)}: no CPU utilisation target`);
    }
  }

  for (const deployment of deployments) {
    const { name, namespace } = deployment.object.metadata;
    const scaling = hpas.filter((h) => h.metadata.namespace === namespace && (h.spec as JsonMap).scaleTargetRef && ((h.spec as JsonMap).scaleTargetRef as JsonMap).name === name);
    if (scaling.length !== 1) violations.push(`${deployment.id}: ${scaling.length} HorizontalPodAutoscalers target it (want 1)`);
    const budgets = pdbs.filter((p) => p.metadata.namespace === namespace && selectorMatches((p.spec as JsonMap).selector as LabelSelector, deployment.podLabels));
    if (budgets.length !== 1) violations.push(`${deployment.id}: ${budgets.length} PodDisruptionBudgets select its pods (want 1)`);
  }

  for (const pdb of pdbs) {
    const spec = pdb.spec as JsonMap;
    const selected = workloads.filter((w) => w.object.metadata.namespace === pdb.metadata.namespace && selectorMatches(spec.selector as LabelSelector, w.podLabels));
    if (selected.length !== 1) violations.push(`${objectId(pdb)}: selects ${selected.length} workloads (want exactly 1): ${selected.map((w) => w.id).join(", ")}`);
    if (spec.minAvailable === undefined && spec.maxUnavailable === undefined) violations.push(`${objectId(pdb)}: neither minAvailable nor maxUnavailable`);
    if (spec.maxUnavailable === 0 || spec.maxUnavailable === "0%") violations.push(`${objectId(pdb)}: maxUnavailable 0 blocks every node drain`);
    const hpa = hpas.find((h) => ((h.spec as JsonMap).scaleTargetRef as JsonMap).name === selected[0]?.object.metadata.name);
    if (typeof spec.minAvailable === "number" && hpa && spec.minAvailable >= Number((hpa.spec as JsonMap).minReplicas ?? 1)) {
      violations.push(`${objectId(pdb)}: minAvailable ${spec.minAvailable} >= minReplicas blocks node drains`);
    }
  }
  return violations;
}

/**
 * PostgreSQL's default max_connections is 100 (3 reserved for superusers); the
 * budget leaves room for the migrate init containers, psql and monitoring.
 */
export const DATABASE_CONNECTION_BUDGET = 90;
/** The services' DATABASE_POOL_MAX default (packages/platform subgraphEnvSchema). */
const DEFAULT_POOL_MAX = 10;

/**
 * Every subgraph at its HPA maximum still fits its database: maxReplicas ×
 * DATABASE_POOL_MAX (the ConfigMap value, else the service default) <= `budget`.
 * Each subgraph has its own database, so the budget applies per Deployment.
 */
export function connectionBudgetViolations(objects: KubeObject[], budget = DATABASE_CONNECTION_BUDGET): string[] {
  const violations: string[] = [];
  const noSecrets: SecretCatalog = new Map();
  for (const deployment of workloadsOf(objects).filter((w) => w.object.kind === "Deployment")) {
    const app = ((deployment.podSpec.containers as JsonMap[] | undefined) ?? []).find((c) => c.name === "app");
    if (!app) continue;
    const { env } = effectiveEnv(app, objects, deployment.object.metadata.namespace, noSecrets);
    if (!env.has("DATABASE_URL")) continue;
    const pool = env.get("DATABASE_POOL_MAX");
    const poolMax = pool?.kind === "value" ? Number(pool.value) : DEFAULT_POOL_MAX;
    const hpa = ofKind(objects, "HorizontalPodAutoscaler").find((h) => ((h.spec as JsonMap).scaleTargetRef as JsonMap).name === deployment.object.metadata.name);
    const maxReplicas = hpa ? Number((hpa.spec as JsonMap).maxReplicas) : 1;
    if (maxReplicas * poolMax > budget) {
      violations.push(`${deployment.id}: HPA maxReplicas ${maxReplicas} × DATABASE_POOL_MAX ${poolMax} = ${maxReplicas * poolMax} database connections > ${budget}`);
    }
  }
  return violations;
}
