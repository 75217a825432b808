import { createHash } from "node:crypto";
import { isMap, type KubeObject } from "../kube-object.ts";
import { goJsonMarshal } from "./go-json.ts";

/**
 * The suffix kustomize appends to a generated ConfigMap's or Secret's name
 * (sigs.k8s.io/kustomize/api/hasher): SHA-256 of a Go-JSON encoding of the
 * content-bearing fields, first 10 hex digits, with 0 1 3 a e mapped to g h k m t.
 * Labels, annotations and namespace do not take part.
 *
 * The encoded "name" is always "": kustomize v5 reads it with
 * `yaml.Lookup("metadata/name")`, a single path segment that never matches, so the
 * name is in the encoding but empty (checked against `kubectl kustomize`, kustomize
 * v5.5.0; hashes printed in older kustomize docs, which did include the name, differ).
 */
export function kustomizeNameHash(object: KubeObject): string {
  const valueOr = (field: unknown) => (isMap(field) ? field : "");
  let encoded: Record<string, unknown>;
  if (object.kind === "ConfigMap") {
    encoded = { kind: "ConfigMap", name: "", data: valueOr(object.data) };
    if (isMap(object.binaryData)) encoded.binaryData = object.binaryData;
  } else if (object.kind === "Secret") {
    encoded = { kind: "Secret", type: typeof object.type === "string" ? object.type : "", name: "", data: valueOr(object.data) };
    if (isMap(object.stringData)) encoded.stringData = object.stringData;
  } else {
    throw new Error(`kustomize hashes only ConfigMaps and Secrets, not ${object.kind}`);
  }
  const hex = createHash("sha256").update(goJsonMarshal(encoded), "utf8").digest("hex");
  const swap: Record<string, string> = { "0": "g", "1": "h", "3": "k", a: "m", e: "t" };
  return [...hex.slice(0, 10)].map((char) => swap[char] ?? char).join("");
}
