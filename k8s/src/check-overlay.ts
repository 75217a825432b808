import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KubeObject } from "./kube-object.ts";
import { kustomizeBuild } from "./kustomize-build.ts";
import { OVERLAYS, SUPERGRAPH_SOURCE, type OverlayName } from "./paths.ts";
import { inClusterDatastoreViolations, redisConfigOf } from "./policy/datastores.ts";
import { networkViolations } from "./policy/network-expectations.ts";
import { orphanPolicies } from "./policy/network-reachability.ts";
import { connectionBudgetViolations, scalingViolations } from "./policy/scaling-policies.ts";
import { loadSecretTemplate, renderedSecretViolations, secretCatalog } from "./policy/secret-template.ts";
import { contractViolations, referenceViolations, routerSupergraph } from "./policy/service-contract.ts";
import { imageViolations, podSecurityViolations, probeViolations, resourceViolations, rolloutViolations } from "./policy/workload-policies.ts";
import { validateAgainstSchemas, type SchemaViolation } from "./validation/openapi-schema.ts";
import { findUnknownFields, type UnknownField } from "./validation/unknown-fields.ts";

/** Everything `npm test` checks on one rendered overlay; every list is empty when it passes. */
export interface OverlayReport {
  overlay: OverlayName;
  objects: KubeObject[];
  schema: SchemaViolation[];
  unknownFields: UnknownField[];
  policies: Record<string, string[]>;
}

/**
 * Renders `k8sDir/overlays/<overlay>` with `kubectl kustomize` and runs every check on it: OpenAPI schema
 * validation, unknown fields, and each deployment policy (see the policy modules).
 * `supergraphSource` is the committed supergraph the router's ConfigMap must equal.
 */
export async function checkOverlay(k8sDir: string, overlay: OverlayName, supergraphSource = SUPERGRAPH_SOURCE): Promise<OverlayReport> {
  const objects = kustomizeBuild(join(k8sDir, "overlays", overlay));
  const secrets = secretCatalog(loadSecretTemplate(join(k8sDir, "secrets", "secrets.template.yaml")));
  const production = overlay === "production";
  const guard = (check: () => string[]) => {
    try {
      return check();
    } catch (error) {
      return [(error as Error).message];
    }
  };
  const policies: Record<string, string[]> = {
    probes: probeViolations(objects),
    resources: resourceViolations(objects),
    podSecurity: podSecurityViolations(objects),
    rollout: rolloutViolations(objects, secrets),
    images: imageViolations(objects, { requireRegistry: production }),
    scaling: scalingViolations(objects, { minReplicas: production ? 2 : 1 }),
    connections: connectionBudgetViolations(objects),
    contract: contractViolations(objects, secrets),
    references: referenceViolations(objects),
    secrets: renderedSecretViolations(objects),
    network: guard(() => [...networkViolations(objects, overlay), ...orphanPolicies(objects)]),
    supergraph: guard(() => {
      const { configMap, content } = routerSupergraph(objects, secrets);
      return content === readFileSync(supergraphSource, "utf8")
        ? []
        : [`ConfigMap ${configMap} differs from ${supergraphSource}: run \`npm run compose\``];
    }),
    datastores: guard(() => (production ? externalDatastoreViolations(objects) : localDatastoreViolations(objects))),
    namespace: namespaceViolations(objects),
  };
  return { overlay, objects, schema: await validateAgainstSchemas(objects), unknownFields: findUnknownFields(objects), policies };
}

function localDatastoreViolations(objects: KubeObject[]): string[] {
  const violations = inClusterDatastoreViolations(objects);
  const redis = redisConfigOf(objects);
  if (redis.get("appendonly") !== "yes") violations.push("redis: appendonly is not yes (BullMQ needs AOF persistence)");
  if (redis.get("maxmemory-policy") !== "noeviction") violations.push("redis: maxmemory-policy is not noeviction (BullMQ must never lose keys)");
  return violations;
}

function externalDatastoreViolations(objects: KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === "StatefulSet" || o.kind === "PersistentVolumeClaim")
    .map((o) => `${o.kind}/${o.metadata.name}: production uses managed datastores, not in-cluster ones`);
}

function namespaceViolations(objects: KubeObject[]): string[] {
  const namespaces = objects.filter((o) => o.kind === "Namespace");
  const violations = namespaces.length === 1 ? [] : [`${namespaces.length} Namespaces rendered (want 1)`];
  const ns = namespaces[0];
  if (ns && ns.metadata.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted") violations.push(`Namespace ${ns.metadata.name} does not enforce the restricted Pod Security Standard`);
  for (const object of objects) {
    if (object.kind !== "Namespace" && object.metadata.namespace !== ns?.metadata.name) violations.push(`${object.kind}/${object.metadata.name} is not in namespace ${ns?.metadata.name}`);
  }
  return violations;
}

export { OVERLAYS };
