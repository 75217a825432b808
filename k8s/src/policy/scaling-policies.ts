import { isMap, objectId, type JsonMap, type KubeObject } from "../kube-object.ts";
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
