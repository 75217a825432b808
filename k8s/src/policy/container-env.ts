import { isMap, type JsonMap, type KubeObject } from "../kube-object.ts";

/** Where an environment variable's value comes from. */
export type EnvValue =
  | { kind: "value"; value: string }
  | { kind: "secret"; secret: string; key: string }
  | { kind: "other" };

/** Keys of each Secret the manifests may reference (from the Secret template). */
export type SecretCatalog = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * The environment a container starts with: `envFrom` sources in order, then `env`
 * (later entries win, as the kubelet does). ConfigMap values are resolved from the
 * rendered objects, Secret references are kept as references. Dangling references
 * (a missing ConfigMap, key or Secret) are returned in `problems`.
 */
export function effectiveEnv(container: JsonMap, objects: KubeObject[], namespace: string | undefined, secrets: SecretCatalog): { env: Map<string, EnvValue>; problems: string[] } {
  const env = new Map<string, EnvValue>();
  const problems: string[] = [];
  const configMap = (name: string) =>
    objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === name && o.metadata.namespace === namespace)?.data as Record<string, string> | undefined;
  for (const from of Array.isArray(container.envFrom) ? container.envFrom : []) {
    if (!isMap(from)) continue;
    const prefix = typeof from.prefix === "string" ? from.prefix : "";
    if (isMap(from.configMapRef)) {
      const name = String(from.configMapRef.name);
      const data = configMap(name);
      if (!data) problems.push(`envFrom ConfigMap ${name} does not exist`);
      for (const [key, value] of Object.entries(data ?? {})) env.set(prefix + key, { kind: "value", value });
    }
    if (isMap(from.secretRef)) {
      const name = String(from.secretRef.name);
      const keys = secrets.get(name);
      if (!keys) problems.push(`envFrom Secret ${name} is not in the Secret template`);
      for (const key of keys ?? []) env.set(prefix + key, { kind: "secret", secret: name, key });
    }
  }
  for (const entry of Array.isArray(container.env) ? container.env : []) {
    if (!isMap(entry)) continue;
    const name = String(entry.name);
    if (typeof entry.value === "string") {
      env.set(name, { kind: "value", value: entry.value });
      continue;
    }
    const from = isMap(entry.valueFrom) ? entry.valueFrom : {};
    if (isMap(from.configMapKeyRef)) {
      const { name: cm, key } = from.configMapKeyRef as { name: string; key: string };
      const value = configMap(cm)?.[key];
      if (value === undefined) problems.push(`env ${name}: ConfigMap ${cm} key ${key} does not exist`);
      else env.set(name, { kind: "value", value });
    } else if (isMap(from.secretKeyRef)) {
      const { name: secret, key } = from.secretKeyRef as { name: string; key: string };
      if (!secrets.get(secret)?.has(key)) problems.push(`env ${name}: Secret ${secret} key ${key} is not in the Secret template`);
      env.set(name, { kind: "secret", secret, key });
    } else {
      env.set(name, { kind: "other" });
    }
  }
  return { env, problems };
}
