import { randomBytes } from "node:crypto";
import { isMap, objectId, type KubeObject } from "../kube-object.ts";
import { SECRET_TEMPLATE } from "../paths.ts";
import { readKubeObjects } from "../yaml-documents.ts";
import type { SecretCatalog } from "./container-env.ts";
import { SUBGRAPH_NAMES } from "./datastores.ts";

/** A placeholder of the template: `<what-to-put-here>`. */
export const PLACEHOLDER = /^<[a-z0-9-]+>$/;

/** The Secret template objects (k8s/secrets/secrets.template.yaml by default). */
export function loadSecretTemplate(path = SECRET_TEMPLATE): KubeObject[] {
  return readKubeObjects(path);
}

/** Secret name -> the keys the template defines for it. */
export function secretCatalog(template: KubeObject[]): SecretCatalog {
  return new Map(template.filter((o) => o.kind === "Secret").map((secret) => [
    secret.metadata.name,
    new Set([...Object.keys(isMap(secret.stringData) ? secret.stringData : {}), ...Object.keys(isMap(secret.data) ? secret.data : {})]),
  ]));
}

/**
 * The template holds no real value: only Secrets, only `stringData`, and every
 * value a `<placeholder>`. A base64 `data` field is refused outright (it hides values).
 */
export function templateValueViolations(template: KubeObject[]): string[] {
  const violations: string[] = [];
  for (const object of template) {
    if (object.kind !== "Secret") violations.push(`${objectId(object)}: the template may hold only Secrets`);
    if (object.data !== undefined) violations.push(`${objectId(object)}: data (base64) is not allowed in the template; use stringData placeholders`);
    for (const [key, value] of Object.entries(isMap(object.stringData) ? object.stringData : {})) {
      if (typeof value !== "string" || !PLACEHOLDER.test(value)) violations.push(`${objectId(object)}: ${key} holds a value, not a <placeholder>`);
    }
  }
  return violations;
}

/**
 * Rendered manifests carry no Secret at all: `kubectl apply -k` must never
 * overwrite the Secrets an operator created (so no real value can leak into git,
 * and no placeholder can replace a real value in the cluster).
 */
export function renderedSecretViolations(objects: KubeObject[]): string[] {
  return objects.filter((o) => o.kind === "Secret").map((o) => `${objectId(o)}: Secrets must not be part of the rendered manifests`);
}

/**
 * Fresh random Secrets for the local overlay, shaped by the template (same names
 * and keys): in-cluster Redis and PostgreSQL URLs, random 32-byte secrets and
 * database passwords.
 * @throws Error when the template has a key this generator does not know how to fill.
 */
export function generateLocalSecrets(template: KubeObject[], random: (bytes: number) => string = (n) => randomBytes(n).toString("hex")): KubeObject[] {
  const passwords = new Map(SUBGRAPH_NAMES.map((name) => [name, random(24)]));
  const valueFor = (secret: string, key: string): string => {
    const subgraph = SUBGRAPH_NAMES.find((name) => secret === `rentcar-${name}-db`);
    if (key === "REDIS_URL") return "redis://redis:6379";
    if (key === "INTERNAL_SECRET" || key === "JWT_SECRET") return random(32);
    if (subgraph && key === "POSTGRES_PASSWORD") return passwords.get(subgraph) as string;
    if (subgraph && key === "DATABASE_URL") return `postgresql://${subgraph}:${passwords.get(subgraph) as string}@postgres-${subgraph}:5432/rentcar_${subgraph}`;
    throw new Error(`no local value for ${secret}/${key}`);
  };
  return template.map((secret) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secret.metadata.name, namespace: secret.metadata.namespace ?? "rentcar", labels: { "app.kubernetes.io/part-of": "rentcar" } },
    type: "Opaque",
    stringData: Object.fromEntries(Object.keys(isMap(secret.stringData) ? secret.stringData : {}).map((key) => [key, valueFor(secret.metadata.name, key)])),
  }));
}
