/** Metadata every rendered Kubernetes object carries. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** A Kubernetes object as read from YAML: typed envelope, untyped body. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A JSON-like map (what a YAML mapping parses to). */
export type JsonMap = Record<string, unknown>;

/** True for a plain (non-array, non-null) object. */
export function isMap(value: unknown): value is JsonMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `Kind/namespace/name` (or `Kind/name`): how errors and reports name an object. */
export function objectId(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns ? `${object.kind}/${ns}/${object.metadata.name}` : `${object.kind}/${object.metadata.name}`;
}

/** Splits `apiVersion` into group ("" for the core group) and version. */
export function groupVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** A deep copy of JSON-like data. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
