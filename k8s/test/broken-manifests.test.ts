import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkOverlay, type OverlayReport } from "../src/check-overlay.ts";
import { K8S_DIR, type OverlayName } from "../src/paths.ts";
import { copyTree, editFile, removeTree } from "./temp-tree.ts";

/**
 * Proof that the checks can fail: each case breaks a throwaway copy of k8s/ the way
 * a real change could, renders it, and expects exactly the check that guards that
 * property to report it.
 */
interface BrokenCase {
  name: string;
  overlay: OverlayName;
  edits: Array<[file: string, search: string | RegExp, replacement: string]>;
  extraFiles?: Record<string, string>;
  expectFailure: (report: OverlayReport) => string[] | undefined;
  message: RegExp;
}

const policy = (name: string) => (report: OverlayReport) => report.policies[name];
const schema = (report: OverlayReport) => report.schema.map((v) => `${v.object}: ${v.messages.join("; ")}`);
const unknownFields = (report: OverlayReport) => report.unknownFields.map((f) => `${f.object}: ${f.path}`);

const CASES: BrokenCase[] = [
  { name: "a port written as a string", overlay: "local", edits: [["base/router/deployment.yaml", "containerPort: 4000", 'containerPort: "4000"']], expectFailure: schema, message: /Deployment\/rentcar\/router: \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer/ },
  { name: "a removed API version (policy/v1beta1 PDB)", overlay: "production", edits: [["base/rental/pdb.yaml", "policy/v1", "policy/v1beta1"]], expectFailure: schema, message: /policy\/v1beta1 PodDisruptionBudget is not an allowed API version/ },
  { name: "a misspelt field (readinesProbe)", overlay: "local", edits: [["base/payment/deployment.yaml", "readinessProbe:", "readinesProbe:"]], expectFailure: unknownFields, message: /Deployment\/rentcar\/payment: spec\.template\.spec\.containers\[0\]\.readinesProbe/ },
  { name: "a container without readiness probe", overlay: "local", edits: [["base/payment/deployment.yaml", "readinessProbe:", "readinesProbe:"]], expectFailure: policy("probes"), message: /Deployment\/rentcar\/payment container app: no readinessProbe/ },
  { name: "a readiness probe removed", overlay: "production", edits: [["base/payment/deployment.yaml", /\n {10}readinessProbe:\n( {12}.*\n)+/, "\n"]], expectFailure: policy("probes"), message: /Deployment\/rentcar\/payment container app: no readinessProbe/ },
  { name: "a container without memory limit", overlay: "production", edits: [["base/router/deployment.yaml", /(limits:\n\s+cpu: "1")\n\s+memory: 512Mi/, "$1"], ["overlays/production/patches/app-resources.yaml", /\n\s+memory: 768Mi/, ""]], expectFailure: policy("resources"), message: /Deployment\/rentcar\/router container app: no memory limit/ },
  { name: "a pod allowed to run as root", overlay: "production", edits: [["base/rental/deployment.yaml", /runAsNonRoot: true\n(\s+)runAsUser: 1000/, "runAsNonRoot: false\n$1runAsUser: 0"]], expectFailure: policy("podSecurity"), message: /Deployment\/rentcar\/rental container app: runs as uid 0/ },
  { name: "a Deployment without HorizontalPodAutoscaler", overlay: "production", edits: [["base/kustomization.yaml", "  - router/hpa.yaml\n", ""]], expectFailure: policy("scaling"), message: /Deployment\/rentcar\/router: 0 HorizontalPodAutoscalers target it/ },
  { name: "an untagged image", overlay: "local", edits: [["overlays/local/kustomization.yaml", /\n\s+newTag: dev/, ""]], expectFailure: policy("images"), message: /image rentcar has neither tag nor digest/ },
  { name: "a Secret the template does not declare", overlay: "production", edits: [["base/payment/deployment.yaml", /name: rentcar-shared\n(\s+)key: INTERNAL_SECRET/, "name: rentcar-payment-api\n$1key: INTERNAL_SECRET"]], expectFailure: policy("contract"), message: /payment.*rentcar-payment-api.*not in the Secret template/ },
  { name: "a NetworkPolicy that blocks reservation -> payment", overlay: "local", edits: [["base/network-policies/payment.yaml", /\n\s+# reservation registers[^\n]*\n\s+- podSelector:\n\s+matchLabels:\n\s+app.kubernetes.io\/name: reservation/, ""]], expectFailure: policy("network"), message: /reservation -> payment:4002\/TCP is denied, must be allowed/ },
  { name: "a readiness probe on the liveness endpoint", overlay: "production", edits: [["base/router/deployment.yaml", "path: /health/ready", "path: /health/live"]], expectFailure: policy("probes"), message: /router container app: readinessProbe must GET \/health\/ready/ },
  { name: "an init container without limits", overlay: "production", edits: [["base/rental/deployment.yaml", /\n\s+limits:\n\s+cpu: "1"\n\s+memory: 512Mi/, ""]], expectFailure: policy("resources"), message: /rental init container migrate: no cpu limit/ },
  { name: "privilege escalation allowed", overlay: "local", edits: [["base/router/deployment.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"]], expectFailure: policy("podSecurity"), message: /router container app: allowPrivilegeEscalation is not false/ },
  { name: "a writable root filesystem", overlay: "local", edits: [["overlays/local/redis/redis.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"]], expectFailure: policy("podSecurity"), message: /StatefulSet\/rentcar\/redis container redis: readOnlyRootFilesystem is not true/ },
  { name: "a rollout that may remove serving pods", overlay: "production", edits: [["base/reservation/deployment.yaml", "maxUnavailable: 0", "maxUnavailable: 1"]], expectFailure: policy("rollout"), message: /reservation: maxUnavailable is not 0/ },
  { name: "a grace period shorter than the drain", overlay: "production", edits: [["base/router/deployment.yaml", "terminationGracePeriodSeconds: 25", "terminationGracePeriodSeconds: 12"]], expectFailure: policy("rollout"), message: /terminationGracePeriodSeconds 12 < preStop 5 s \+ SHUTDOWN_DELAY_MS 0 s \+ SHUTDOWN_TIMEOUT_MS 10 s \+ 5 s/ },
  { name: "an in-process drain delay the grace period does not cover", overlay: "local", edits: [["base/kustomization.yaml", "SHUTDOWN_DELAY_MS=0", "SHUTDOWN_DELAY_MS=15000"]], expectFailure: policy("rollout"), message: /payment container app: terminationGracePeriodSeconds 25 < preStop 5 s \+ SHUTDOWN_DELAY_MS 15 s \+ SHUTDOWN_TIMEOUT_MS 10 s \+ 5 s/ },
  { name: "the latest tag in production", overlay: "production", edits: [["overlays/production/kustomization.yaml", "newTag: 1.0.0", "newTag: latest"]], expectFailure: policy("images"), message: /image registry\.example\.com\/rentcar\/rentcar:latest uses the latest tag/ },
  { name: "a Deployment without PodDisruptionBudget", overlay: "local", edits: [["base/kustomization.yaml", "  - payment/pdb.yaml\n", ""]], expectFailure: policy("scaling"), message: /Deployment\/rentcar\/payment: 0 PodDisruptionBudgets select its pods/ },
  { name: "an HPA scaling the wrong Deployment", overlay: "production", edits: [["base/rental/hpa.yaml", /kind: Deployment\n(\s+)name: rental/, "kind: Deployment\n$1name: rentals"]], expectFailure: policy("scaling"), message: /Deployment\/rentcar\/rental: 0 HorizontalPodAutoscalers target it/ },
  { name: "a subgraph exposed by a LoadBalancer", overlay: "production", edits: [["base/payment/service.yaml", "type: ClusterIP", "type: LoadBalancer"]], expectFailure: policy("contract"), message: /Service\/rentcar\/payment: type LoadBalancer/ },
  { name: "a Secret key the template does not define", overlay: "production", edits: [["base/router/deployment.yaml", "key: JWT_SECRET", "key: JWT_SECRT"]], expectFailure: policy("contract"), message: /env JWT_SECRET: Secret rentcar-router key JWT_SECRT is not in the Secret template/ },
  { name: "a misspelt environment variable", overlay: "production", edits: [["base/kustomization.yaml", "- SHUTDOWN_DELAY_MS=0", "- SHUTDOWN_DELAY=0"]], expectFailure: policy("contract"), message: /Deployment\/rentcar\/router container app: sets SHUTDOWN_DELAY, which the service does not read/ },
  { name: "a non-numeric pool size", overlay: "local", edits: [["base/kustomization.yaml", "DATABASE_POOL_MAX=5", "DATABASE_POOL_MAX=five"]], expectFailure: policy("contract"), message: /reservation container app: DATABASE_POOL_MAX "five" is not an integer >= 1/ },
  { name: "more pooled connections than the database allows", overlay: "production", edits: [["overlays/production/patches/hpa.yaml", "maxReplicas: 10", "maxReplicas: 20"]], expectFailure: policy("connections"), message: /Deployment\/rentcar\/reservation: HPA maxReplicas 20 × DATABASE_POOL_MAX 5 = 100 database connections > 90/ },
  { name: "a subgraph URL on the wrong port", overlay: "local", edits: [["base/kustomization.yaml", "RENTAL_URL=http://rental:4003/graphql", "RENTAL_URL=http://rental:4004/graphql"]], expectFailure: policy("contract"), message: /RENTAL_URL must be http:\/\/rental:4003\/graphql/ },
  { name: "a Secret with a value in the manifests", overlay: "local", edits: [["base/kustomization.yaml", "  - namespace.yaml\n", "  - namespace.yaml\n  - leak.yaml\n"]], extraFiles: { "base/leak.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\nstringData:\n  JWT_SECRET: hunter2hunter2hunter2\n" }, expectFailure: policy("secrets"), message: /Secret\/rentcar\/leak: Secrets must not be part of the rendered manifests/ },
  { name: "payment open to every namespace", overlay: "local", edits: [["base/network-policies/payment.yaml", "- podSelector:\n            matchLabels:\n              app.kubernetes.io/name: router", "- namespaceSelector: {}"]], expectFailure: policy("network"), message: /ingress-nginx-controller -> payment:4002\/TCP is allowed, must be denied/ },
  { name: "a stale supergraph copy", overlay: "production", edits: [["base/router/supergraph.graphql", /$/, "\n# stale\n"]], expectFailure: policy("supergraph"), message: /differs from .*router\/supergraph\.graphql: run `npm run compose`/ },
  { name: "Redis allowed to evict BullMQ keys", overlay: "local", edits: [["overlays/local/redis/redis.conf", "maxmemory-policy noeviction", "maxmemory-policy allkeys-lru"]], expectFailure: policy("datastores"), message: /maxmemory-policy is not noeviction/ },
];

let copies: string[] = [];
afterEach(() => {
  copies.forEach(removeTree);
  copies = [];
});

describe("a broken copy of the manifests is rejected", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, brokenCase) => {
    const copy = copyTree(K8S_DIR, ["base", "overlays", "secrets"]);
    copies.push(copy);
    for (const [file, content] of Object.entries(brokenCase.extraFiles ?? {})) writeFileSync(join(copy, file), content);
    for (const [file, search, replacement] of brokenCase.edits) editFile(copy, file, search, replacement);
    const report = await checkOverlay(copy, brokenCase.overlay);
    const failures = brokenCase.expectFailure(report) ?? [];
    expect(failures.join("\n")).toMatch(brokenCase.message);
  });

  it("the unbroken copy passes every check (the cases above fail for their edit alone)", async () => {
    const copy = copyTree(K8S_DIR, ["base", "overlays", "secrets"]);
    copies.push(copy);
    for (const overlay of ["local", "production"] as const) {
      const report = await checkOverlay(copy, overlay);
      expect(report.schema).toEqual([]);
      expect(report.unknownFields).toEqual([]);
      expect(Object.values(report.policies).flat()).toEqual([]);
    }
  });
});
