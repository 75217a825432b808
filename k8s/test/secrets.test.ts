import { describe, expect, it } from "vitest";
import { kustomizeBuild } from "../src/kustomize-build.ts";
import { overlayDir, OVERLAYS } from "../src/paths.ts";
import { containersOfWorkloads } from "../src/policy/workloads.ts";
import { generateLocalSecrets, loadSecretTemplate, PLACEHOLDER, secretCatalog, templateValueViolations } from "../src/policy/secret-template.ts";
import { validateAgainstSchemas } from "../src/validation/openapi-schema.ts";
import { findUnknownFields } from "../src/validation/unknown-fields.ts";
import type { KubeObject } from "../src/kube-object.ts";

/** Every (Secret, key) a rendered overlay references. */
function secretRefs(objects: KubeObject[]): Set<string> {
  const refs = new Set<string>();
  for (const { container } of containersOfWorkloads(objects)) {
    for (const env of (container.env as Array<{ valueFrom?: { secretKeyRef?: { name: string; key: string } } }>) ?? []) {
      const ref = env.valueFrom?.secretKeyRef;
      if (ref) refs.add(`${ref.name}/${ref.key}`);
    }
  }
  return refs;
}

describe("Secret template (k8s/secrets/secrets.template.yaml)", () => {
  const template = loadSecretTemplate();

  it("holds no real value: placeholders only", () => {
    expect(template.length).toBeGreaterThan(0);
    expect(templateValueViolations(template)).toEqual([]);
  });

  it("is schema-valid", async () => {
    expect(await validateAgainstSchemas(template)).toEqual([]);
    expect(findUnknownFields(template)).toEqual([]);
  });

  it("defines exactly the keys the overlays reference (no missing, no unused)", () => {
    const defined = new Set([...secretCatalog(template)].flatMap(([name, keys]) => [...keys].map((key) => `${name}/${key}`)));
    const used = new Set(OVERLAYS.flatMap((overlay) => [...secretRefs(kustomizeBuild(overlayDir(overlay)))]));
    expect([...used].filter((ref) => !defined.has(ref))).toEqual([]);
    expect([...defined].filter((ref) => !used.has(ref))).toEqual([]);
    // Production never needs the local-only PostgreSQL passwords.
    expect([...secretRefs(kustomizeBuild(overlayDir("production")))].filter((ref) => ref.endsWith("/POSTGRES_PASSWORD"))).toEqual([]);
  });

  it("the local generator fills every key with a random, consistent value", async () => {
    let counter = 0;
    const secrets = generateLocalSecrets(template, (bytes) => `r${++counter}`.padEnd(bytes * 2, "x"));
    expect(await validateAgainstSchemas(secrets)).toEqual([]);
    expect(secrets.map((s) => s.metadata.name)).toEqual(template.map((t) => t.metadata.name));
    for (const secret of secrets) {
      for (const value of Object.values(secret.stringData as Record<string, string>)) expect(value).not.toMatch(PLACEHOLDER);
    }
    const payment = secrets.find((s) => s.metadata.name === "rentcar-payment-db")!.stringData as Record<string, string>;
    expect(payment.DATABASE_URL).toBe(`postgresql://payment:${payment.POSTGRES_PASSWORD}@postgres-payment:5432/rentcar_payment`);
    const shared = secrets.find((s) => s.metadata.name === "rentcar-shared")!.stringData as Record<string, string>;
    expect(shared.REDIS_URL).toBe("redis://redis:6379");
    expect(shared.INTERNAL_SECRET).toHaveLength(64);
  });
});
