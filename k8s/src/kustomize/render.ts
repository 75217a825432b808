import { readFileSync, realpathSync, statSync } from "node:fs";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import { clone, groupVersion, isMap, objectId, type JsonMap, type KubeObject } from "../kube-object.ts";
import { asKubeObject, parseYamlDocuments, readKubeObjects } from "../yaml-documents.ts";
import { applyImageOverride } from "./images.ts";
import { findKustomizationFile, loadKustomization, type ConfigMapGeneratorEntry, type Kustomization, type LabelsEntry, type PatchEntry, type PatchTarget } from "./kustomization-file.ts";
import { kustomizeNameHash } from "./name-hash.ts";
import { containersOf, podSpecOf } from "./pod-specs.ts";
import { sortLegacy } from "./resource-order.ts";
import { strategicMerge } from "./strategic-merge.ts";

/** A resource while a kustomization is being built. */
interface Resource {
  object: KubeObject;
  /** Generated ConfigMap that gets kustomize's content-hash name suffix at the end. */
  hashName: boolean;
}

/** Kinds that have no namespace (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED_KINDS = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
  "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration", "APIService", "CSIDriver", "VolumeAttachment",
]);

/**
 * Builds the kustomization in `dir` like `kustomize build` / `kubectl kustomize`
 * (kustomize v5 semantics) for the subset of features these manifests use:
 * `resources` (files and directories, recursively), `configMapGenerator` (literals,
 * files, content-hash name suffix with reference rewriting, `disableNameSuffixHash`),
 * `patches` (strategic merge, by name or by target selector), `namespace`, `labels`
 * (with `includeTemplates`) and `images`. Anything else is refused with an error
 * rather than rendered differently. Files must lie in or below their kustomization
 * directory, as kustomize's default load restrictor demands.
 */
export function renderKustomization(dir: string): KubeObject[] {
  const resources = accumulate(resolve(dir), []);
  applyNameHashes(resources);
  return sortLegacy(resources.map((resource) => resource.object));
}

function accumulate(dir: string, stack: string[]): Resource[] {
  const real = realpathSync(dir);
  if (stack.includes(real)) throw new Error(`cycle in kustomization resources: ${[...stack, real].join(" -> ")}`);
  const kustomization = loadKustomization(dir);
  const resources: Resource[] = [];
  for (const entry of kustomization.resources) {
    const path = resolve(dir, entry);
    if (statSafe(path)?.isDirectory()) {
      if (!findKustomizationFile(path)) throw new Error(`${dir}: resource ${entry} is a directory without a kustomization`);
      resources.push(...accumulate(path, [...stack, real]));
    } else {
      for (const object of readKubeObjects(restrictedPath(dir, entry))) resources.push({ object, hashName: false });
    }
  }
  for (const generator of kustomization.configMapGenerator) resources.push(generateConfigMap(dir, generator));
  assertUniqueIds(resources, dir);
  runTransformers(kustomization, resources);
  return resources;
}

/** kustomize's builtin transformer order: patches, namespace, labels, images. */
function runTransformers(kustomization: Kustomization, resources: Resource[]): void {
  for (const patch of kustomization.patches) applyPatch(kustomization.dir, resources, patch);
  if (kustomization.namespace) setNamespace(resources, kustomization.namespace);
  for (const labels of kustomization.labels) addLabels(resources, labels);
  const objects = resources.map((resource) => resource.object);
  for (const image of kustomization.images) applyImageOverride(objects, image);
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Resolves a file named by a kustomization and refuses files outside its directory
 * (symlinks resolved first), like kustomize's LoadRestrictionsRootOnly.
 */
function restrictedPath(root: string, file: string): string {
  const path = resolve(root, file);
  const stat = statSafe(path);
  if (!stat?.isFile()) throw new Error(`${root}: file ${file} not found`);
  const realRoot = realpathSync(root);
  const realFile = realpathSync(path);
  const rel = relative(realRoot, realFile);
  if (rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) {
    throw new Error(`security; file '${realFile}' is not in or below '${realRoot}'`);
  }
  return realFile;
}

function generateConfigMap(dir: string, generator: ConfigMapGeneratorEntry): Resource {
  const data: Record<string, string> = {};
  const put = (key: string, value: string, source: string) => {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`configMapGenerator ${generator.name}: invalid key "${key}" (${source})`);
    if (key in data) throw new Error(`configMapGenerator ${generator.name}: duplicate key "${key}"`);
    data[key] = value;
  };
  for (const literal of generator.literals) {
    const eq = literal.indexOf("=");
    if (eq <= 0) throw new Error(`configMapGenerator ${generator.name}: literal "${literal}" is not KEY=VALUE`);
    put(literal.slice(0, eq), unquote(literal.slice(eq + 1)), literal);
  }
  for (const source of generator.files) {
    const eq = source.indexOf("=");
    const [key, file] = eq < 0 ? [basename(source), source] : [source.slice(0, eq), source.slice(eq + 1)];
    const bytes = readFileSync(restrictedPath(dir, file));
    const text = bytes.toString("utf8");
    if (!Buffer.from(text, "utf8").equals(bytes)) throw new Error(`configMapGenerator ${generator.name}: ${file} is not UTF-8 (binaryData is not supported)`);
    put(key, text, file);
  }
  const object: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: generator.name }, data };
  return { object, hashName: !generator.disableNameSuffixHash };
}

/** kustomize strips one pair of matching surrounding quotes from literal values. */
function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) return value.slice(1, -1);
  return value;
}

function assertUniqueIds(resources: Resource[], dir: string): void {
  const seen = new Set<string>();
  for (const { object } of resources) {
    const id = `${object.apiVersion}|${objectId(object)}`;
    if (seen.has(id)) throw new Error(`${dir}: may not add resource with an already registered id: ${objectId(object)}`);
    seen.add(id);
  }
}

function applyPatch(dir: string, resources: Resource[], entry: PatchEntry): void {
  const source = entry.path ?? "inline patch";
  const text = entry.path !== undefined ? readFileSync(restrictedPath(dir, entry.path), "utf8") : (entry.patch ?? "");
  const docs = parseYamlDocuments(text, `${dir}: ${source}`);
  if (docs.length !== 1) throw new Error(`${dir}: ${source}: a patch must hold exactly one document`);
  if (Array.isArray(docs[0])) throw new Error(`${dir}: ${source}: JSON 6902 patches are not supported by this renderer`);
  const patch = asKubeObject(docs[0], `${dir}: ${source}`);
  const target: PatchTarget = entry.target ?? {
    ...groupVersion(patch.apiVersion),
    kind: patch.kind,
    name: patch.metadata.name,
    ...(patch.metadata.namespace ? { namespace: patch.metadata.namespace } : {}),
  };
  const matches = resources.filter((resource) => matchesTarget(resource.object, target));
  // kustomize requires exactly one match for an untargeted patch; for a target
  // selector it accepts none, which this renderer refuses too (a patch that patches
  // nothing is a mistake).
  if (matches.length === 0) throw new Error(`${dir}: ${source}: no resource matches ${JSON.stringify(target)}`);
  if (!entry.target && matches.length > 1) throw new Error(`${dir}: ${source}: more than one resource matches ${JSON.stringify(target)}`);
  for (const resource of matches) {
    const body = clone(patch) as JsonMap;
    // With a target, the patch's own apiVersion/kind/name are ignored (set to the target's).
    const metadata: JsonMap = { ...(body.metadata as JsonMap), name: resource.object.metadata.name };
    if (resource.object.metadata.namespace) metadata.namespace = resource.object.metadata.namespace;
    else delete metadata.namespace;
    const patched = strategicMerge(resource.object, { ...body, apiVersion: resource.object.apiVersion, kind: resource.object.kind, metadata });
    resource.object = patched as KubeObject;
  }
}

/** Selector semantics of kustomize patch targets: name/namespace are anchored regexps. */
function matchesTarget(object: KubeObject, target: PatchTarget): boolean {
  const { group, version } = groupVersion(object.apiVersion);
  const anchored = (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`).test(value);
  if (target.group !== undefined && target.group !== group) return false;
  if (target.version !== undefined && target.version !== version) return false;
  if (target.kind !== undefined && target.kind !== object.kind) return false;
  if (target.name !== undefined && !anchored(target.name, object.metadata.name)) return false;
  if (target.namespace !== undefined && !anchored(target.namespace, object.metadata.namespace ?? "")) return false;
  if (target.labelSelector !== undefined) {
    const labels = object.metadata.labels ?? {};
    for (const requirement of target.labelSelector.split(",")) {
      const match = /^\s*([^=!\s]+)\s*==?\s*([^=!\s]*)\s*$/.exec(requirement);
      if (!match) throw new Error(`labelSelector "${target.labelSelector}": only key=value requirements are supported`);
      if (labels[match[1] as string] !== match[2]) return false;
    }
  }
  return true;
}

function setNamespace(resources: Resource[], namespace: string): void {
  for (const { object } of resources) {
    if (object.kind === "Namespace") object.metadata.name = namespace;
    else if (!CLUSTER_SCOPED_KINDS.has(object.kind)) object.metadata.namespace = namespace;
  }
}

/**
 * Where `labels` with includeTemplates adds labels besides metadata.labels
 * (kustomize's templateLabels field specs; the selectors are never touched).
 */
const TEMPLATE_LABEL_PATHS: Array<{ group?: string; kind: string; path: string[]; list?: boolean }> = [
  { kind: "ReplicationController", group: "", path: ["spec", "template", "metadata", "labels"] },
  { kind: "Deployment", path: ["spec", "template", "metadata", "labels"] },
  { kind: "ReplicaSet", path: ["spec", "template", "metadata", "labels"] },
  { kind: "DaemonSet", path: ["spec", "template", "metadata", "labels"] },
  { kind: "StatefulSet", group: "apps", path: ["spec", "template", "metadata", "labels"] },
  { kind: "StatefulSet", group: "apps", path: ["spec", "volumeClaimTemplates", "metadata", "labels"], list: true },
  { kind: "Job", group: "batch", path: ["spec", "template", "metadata", "labels"] },
  { kind: "CronJob", group: "batch", path: ["spec", "jobTemplate", "metadata", "labels"] },
  { kind: "CronJob", group: "batch", path: ["spec", "jobTemplate", "spec", "template", "metadata", "labels"] },
];

function addLabels(resources: Resource[], entry: LabelsEntry): void {
  for (const { object } of resources) {
    object.metadata.labels = { ...object.metadata.labels, ...entry.pairs };
    if (!entry.includeTemplates) continue;
    const { group } = groupVersion(object.apiVersion);
    for (const spec of TEMPLATE_LABEL_PATHS) {
      if (spec.kind !== object.kind || (spec.group !== undefined && spec.group !== group)) continue;
      if (spec.list) {
        // spec.volumeClaimTemplates[].metadata.labels
        const [first, second, ...rest] = spec.path;
        const items = isMap(object[first as string]) ? (object[first as string] as JsonMap)[second as string] : undefined;
        if (Array.isArray(items)) for (const item of items) if (isMap(item)) setLabels(item, rest, entry.pairs);
      } else {
        setLabels(object, spec.path, entry.pairs);
      }
    }
  }
}

function setLabels(root: JsonMap, path: string[], pairs: Record<string, string>): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (!isMap(node[key])) node[key] = {};
    node = node[key] as JsonMap;
  }
  const last = path.at(-1) as string;
  node[last] = { ...(isMap(node[last]) ? node[last] : {}), ...pairs };
}

/**
 * Appends the content hash to generated ConfigMap names, then rewrites every
 * reference to them from pod specs in the same namespace (volumes, projected
 * volumes, envFrom, env valueFrom) — what kustomize does once, at the top level.
 */
function applyNameHashes(resources: Resource[]): void {
  const renamed = new Map<string, string>();
  for (const resource of resources) {
    if (!resource.hashName) continue;
    const { metadata } = resource.object;
    const name = `${metadata.name}-${kustomizeNameHash(resource.object)}`;
    renamed.set(`${metadata.namespace ?? ""}/${metadata.name}`, name);
    metadata.name = name;
  }
  if (renamed.size === 0) return;
  for (const { object } of resources) {
    const podSpec = podSpecOf(object);
    if (!podSpec) continue;
    const rename = (holder: unknown, field: string) => {
      if (!isMap(holder) || typeof holder[field] !== "string") return;
      const next = renamed.get(`${object.metadata.namespace ?? ""}/${holder[field]}`);
      if (next) holder[field] = next;
    };
    for (const volume of Array.isArray(podSpec.volumes) ? podSpec.volumes : []) {
      if (!isMap(volume)) continue;
      rename(volume.configMap, "name");
      const sources = isMap(volume.projected) && Array.isArray(volume.projected.sources) ? volume.projected.sources : [];
      for (const source of sources) if (isMap(source)) rename(source.configMap, "name");
    }
    for (const { container } of containersOf(podSpec)) {
      for (const from of Array.isArray(container.envFrom) ? container.envFrom : []) if (isMap(from)) rename(from.configMapRef, "name");
      for (const env of Array.isArray(container.env) ? container.env : []) {
        if (isMap(env) && isMap(env.valueFrom)) rename(env.valueFrom.configMapKeyRef, "name");
      }
    }
  }
}
