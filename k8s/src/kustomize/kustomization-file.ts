import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, type JsonMap } from "../kube-object.ts";
import { parseYamlDocuments } from "../yaml-documents.ts";
import type { ImageOverride } from "./images.ts";

/** One `configMapGenerator` entry (only create behaviour). */
export interface ConfigMapGeneratorEntry {
  name: string;
  literals: string[];
  files: string[];
  disableNameSuffixHash: boolean;
}

/** One `labels` entry (metadata, and pod templates when includeTemplates). */
export interface LabelsEntry {
  pairs: Record<string, string>;
  includeTemplates: boolean;
}

/** A patch target selector (the subset supported: no annotationSelector). */
export interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
}

/** One `patches` entry: a strategic merge patch from a file or inline. */
export interface PatchEntry {
  path?: string;
  patch?: string;
  target?: PatchTarget;
}

/** The parsed kustomization.yaml, restricted to the fields this renderer implements. */
export interface Kustomization {
  dir: string;
  resources: string[];
  namespace?: string;
  labels: LabelsEntry[];
  images: ImageOverride[];
  patches: PatchEntry[];
  configMapGenerator: ConfigMapGeneratorEntry[];
}

const FILE_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const SUPPORTED_FIELDS = new Set(["apiVersion", "kind", "resources", "namespace", "labels", "images", "patches", "configMapGenerator"]);

/** The kustomization file of `dir`, or undefined when it has none. */
export function findKustomizationFile(dir: string): string | undefined {
  const found = FILE_NAMES.map((name) => join(dir, name)).filter((path) => existsSync(path));
  if (found.length > 1) throw new Error(`${dir}: found more than one kustomization file (${found.join(", ")})`);
  return found[0];
}

/**
 * Reads and checks the kustomization of `dir`.
 * @throws Error naming the file and field for anything this renderer does not
 *   implement (it refuses rather than renders differently from kustomize).
 */
export function loadKustomization(dir: string): Kustomization {
  const file = findKustomizationFile(dir);
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const [doc, ...rest] = parseYamlDocuments(readFileSync(file, "utf8"), file);
  if (!isMap(doc) || rest.length > 0) throw new Error(`${file}: expected one YAML mapping`);
  const fail = (message: string): never => { throw new Error(`${file}: ${message}`); };
  for (const field of Object.keys(doc)) if (!SUPPORTED_FIELDS.has(field)) fail(`field "${field}" is not supported by this renderer`);
  if (doc.apiVersion !== undefined && doc.apiVersion !== "kustomize.config.k8s.io/v1beta1") fail(`unsupported apiVersion ${String(doc.apiVersion)}`);
  if (doc.kind !== undefined && doc.kind !== "Kustomization") fail(`unsupported kind ${String(doc.kind)}`);

  const strings = (value: unknown, field: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) return fail(`${field} must be a list of strings`);
    return value;
  };
  const entries = (field: string): JsonMap[] => {
    const value = doc[field];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every(isMap)) return fail(`${field} must be a list of mappings`);
    return value;
  };
  const only = (entry: JsonMap, field: string, allowed: string[]) => {
    for (const key of Object.keys(entry)) if (!allowed.includes(key)) fail(`${field}: "${key}" is not supported by this renderer`);
  };

  if (doc.namespace !== undefined && typeof doc.namespace !== "string") fail("namespace must be a string");

  const labels = entries("labels").map((entry): LabelsEntry => {
    only(entry, "labels", ["pairs", "includeTemplates", "includeSelectors"]);
    if (entry.includeSelectors === true) fail("labels.includeSelectors is not supported (selectors are immutable; set them in the manifests)");
    if (!isMap(entry.pairs) || !Object.values(entry.pairs).every((v) => typeof v === "string")) fail("labels.pairs must map strings to strings");
    return { pairs: entry.pairs as Record<string, string>, includeTemplates: entry.includeTemplates === true };
  });

  const images = entries("images").map((entry): ImageOverride => {
    only(entry, "images", ["name", "newName", "newTag", "digest"]);
    for (const [key, value] of Object.entries(entry)) if (typeof value !== "string") fail(`images.${key} must be a string (quote numeric tags)`);
    if (!entry.name) fail("images.name is required");
    return entry as unknown as ImageOverride;
  });

  const patches = entries("patches").map((entry): PatchEntry => {
    only(entry, "patches", ["path", "patch", "target"]);
    if ((entry.path === undefined) === (entry.patch === undefined)) fail("each patch needs exactly one of path or patch");
    if (entry.target !== undefined) {
      if (!isMap(entry.target)) fail("patches.target must be a mapping");
      only(entry.target as JsonMap, "patches.target", ["group", "version", "kind", "name", "namespace", "labelSelector"]);
    }
    return entry as PatchEntry;
  });

  const configMapGenerator = entries("configMapGenerator").map((entry): ConfigMapGeneratorEntry => {
    only(entry, "configMapGenerator", ["name", "literals", "files", "behavior", "options"]);
    if (typeof entry.name !== "string" || entry.name === "") fail("configMapGenerator.name is required");
    if (entry.behavior !== undefined && entry.behavior !== "create") fail(`configMapGenerator behavior "${String(entry.behavior)}" is not supported`);
    let disableNameSuffixHash = false;
    if (entry.options !== undefined) {
      if (!isMap(entry.options)) fail("configMapGenerator.options must be a mapping");
      only(entry.options as JsonMap, "configMapGenerator.options", ["disableNameSuffixHash"]);
      disableNameSuffixHash = (entry.options as JsonMap).disableNameSuffixHash === true;
    }
    return { name: entry.name as string, literals: strings(entry.literals, "literals"), files: strings(entry.files, "files"), disableNameSuffixHash };
  });

  return {
    dir,
    resources: strings(doc.resources, "resources"),
    ...(typeof doc.namespace === "string" ? { namespace: doc.namespace } : {}),
    labels,
    images,
    patches,
    configMapGenerator,
  };
}
