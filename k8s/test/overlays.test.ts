import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkOverlay, type OverlayReport } from "../src/check-overlay.ts";
import { OVERLAYS, K8S_DIR, SUPERGRAPH_SOURCE } from "../src/paths.ts";
import { SCHEMA_KUBERNETES_VERSION } from "../src/validation/api-versions.ts";
import { workloadsOf } from "../src/policy/workloads.ts";

describe.each(OVERLAYS)("overlays/%s", (overlay) => {
  let report: OverlayReport;
  beforeAll(async () => {
    report = await checkOverlay(K8S_DIR, overlay);
  });

  it(`every object is valid against the Kubernetes ${SCHEMA_KUBERNETES_VERSION} OpenAPI schemas`, () => {
    expect(report.objects.length).toBeGreaterThan(20);
    expect(report.schema).toEqual([]);
  });

  it("no object has a field the Kubernetes API does not define", () => {
    expect(report.unknownFields).toEqual([]);
  });

  it.each([
    ["probes", "every container has readiness and liveness probes on the health endpoints"],
    ["resources", "every container requests and limits CPU and memory"],
    ["podSecurity", "every pod is non-root, read-only, without privileges (restricted PSS)"],
    ["rollout", "rolling updates keep every pod until its replacement is ready and drain gracefully"],
    ["images", "images are pinned (explicit tag, never latest)"],
    ["scaling", "every Deployment has an autoscaling/v2 CPU HPA and a PDB"],
    ["connections", "at the HPA maximum every subgraph's pools fit its database"],
    ["contract", "each deployable gets its command, port, Service and environment"],
    ["references", "no reference dangles"],
    ["secrets", "no Secret is rendered (they are created out of band)"],
    ["network", "NetworkPolicies allow exactly the specified connections"],
    ["supergraph", "the router's supergraph ConfigMap equals router/supergraph.graphql"],
    ["datastores", "datastores are as specified for this overlay"],
    ["namespace", "everything lives in one restricted namespace"],
  ])("%s: %s", (policy) => {
    expect(report.policies[policy]).toEqual([]);
  });

  it("delivers router/supergraph.graphql byte for byte", () => {
    const configMap = report.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("router-supergraph-"));
    expect(configMap?.data).toEqual({ "supergraph.graphql": readFileSync(SUPERGRAPH_SOURCE, "utf8") });
  });

  it("tells the router to trust exactly the Ingress hop (TRUST_PROXY=1), so rate limits count clients, not the Ingress", () => {
    const configMap = report.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("router-config-"));
    expect((configMap?.data as Record<string, string> | undefined)?.TRUST_PROXY).toBe("1");
  });

  it("runs the replica counts of the overlay", () => {
    const hpas = report.objects.filter((o) => o.kind === "HorizontalPodAutoscaler").map((o) => (o.spec as { minReplicas: number }).minReplicas);
    expect(hpas).toHaveLength(4);
    for (const min of hpas) {
      if (overlay === "local") expect(min).toBe(1);
      else expect(min).toBeGreaterThanOrEqual(2);
    }
  });

  it("keeps subgraphs cluster-internal and exposes only the router", () => {
    const services = report.objects.filter((o) => o.kind === "Service");
    expect(services.every((s) => (s.spec as { type?: string }).type !== "LoadBalancer" && (s.spec as { type?: string }).type !== "NodePort")).toBe(true);
    const ingresses = report.objects.filter((o) => o.kind === "Ingress");
    expect(ingresses.map((i) => i.metadata.name)).toEqual(["router"]);
  });

  it("has the workloads of the overlay", () => {
    const names = workloadsOf(report.objects).map((w) => `${w.object.kind}/${w.object.metadata.name}`).sort();
    const apps = ["Deployment/payment", "Deployment/rental", "Deployment/reservation", "Deployment/router"];
    const datastores = ["StatefulSet/postgres-payment", "StatefulSet/postgres-rental", "StatefulSet/postgres-reservation", "StatefulSet/redis"];
    expect(names).toEqual(overlay === "local" ? [...apps, ...datastores] : apps);
  });
});
