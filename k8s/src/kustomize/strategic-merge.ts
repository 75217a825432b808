import { clone, isMap, type JsonMap } from "../kube-object.ts";

/**
 * List fields of the built-in kinds that strategic merge patch merges element by
 * element, keyed by the given field (`patchMergeKey` in the Kubernetes API).
 */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  imagePullSecrets: "name",
};

/**
 * List fields that strategic merge patch merges with rules this renderer does not
 * implement (other keys, multi-key maps, set semantics). Patching them is refused
 * rather than silently replacing the whole list.
 */
const UNSUPPORTED_MERGE_LISTS = new Set([
  "ports", "topologySpreadConstraints", "hostAliases", "volumeDevices", "resourceClaims",
  "schedulingGates", "finalizers", "ownerReferences", "conditions", "readinessGates",
]);

/**
 * Applies a strategic merge patch (the subset used by these manifests) to `original`
 * and returns the result; neither argument is modified. Maps merge recursively, a
 * `null` value deletes the field, lists in {@link MERGE_KEYS} merge element-wise by
 * their key (new elements appended), every other list is replaced.
 * @throws Error on `$patch`-style directives and on lists whose merge rules are not implemented.
 */
export function strategicMerge(original: JsonMap, patch: JsonMap, path = ""): JsonMap {
  const result = clone(original);
  for (const [key, patchValue] of Object.entries(patch)) {
    const here = path ? `${path}.${key}` : key;
    if (key.startsWith("$")) throw new Error(`strategic merge directive ${here} is not supported by this renderer`);
    if (patchValue === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (isMap(patchValue)) {
      // A map new to the original still passes through the merge: directives are
      // refused and its nulls dropped.
      result[key] = strategicMerge(isMap(current) ? current : {}, patchValue, here);
    } else if (Array.isArray(patchValue) && Array.isArray(current)) {
      result[key] = mergeList(key, current, patchValue, here);
    } else {
      if (Array.isArray(patchValue) && UNSUPPORTED_MERGE_LISTS.has(key) && current !== undefined) {
        throw new Error(`patching list ${here} needs merge rules this renderer does not implement`);
      }
      result[key] = clone(patchValue);
    }
  }
  return result;
}

function mergeList(field: string, current: unknown[], patch: unknown[], path: string): unknown[] {
  const mergeKey = MERGE_KEYS[field];
  if (!mergeKey) {
    if (UNSUPPORTED_MERGE_LISTS.has(field)) throw new Error(`patching list ${path} needs merge rules this renderer does not implement`);
    return clone(patch);
  }
  const merged = clone(current);
  for (const element of patch) {
    if (!isMap(element) || element[mergeKey] === undefined) throw new Error(`${path}: every patch element needs its merge key "${mergeKey}"`);
    if (Object.keys(element).some((key) => key.startsWith("$"))) throw new Error(`${path}: strategic merge directives are not supported by this renderer`);
    const index = merged.findIndex((item) => isMap(item) && item[mergeKey] === element[mergeKey]);
    const target = index < 0 ? undefined : merged[index];
    if (isMap(target)) merged[index] = strategicMerge(target, element, `${path}[${mergeKey}=${String(element[mergeKey])}]`);
    else merged.push(stripNulls(element));
  }
  return merged;
}

/** A new element has nothing to delete: drop its null fields (as kustomize does). */
function stripNulls(value: JsonMap): JsonMap {
  return strategicMerge({}, value);
}
