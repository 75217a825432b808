import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { isMap, type KubeObject } from "./kube-object.ts";

/**
 * Parses every document of a YAML stream (YAML 1.2 core schema, duplicate keys
 * rejected, as kustomize's kyaml does). Empty documents are skipped.
 * @throws Error naming `source` on a syntax error.
 */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const values: unknown[] = [];
  for (const document of parseAllDocuments(text)) {
    const problem = document.errors[0];
    if (problem) throw new Error(`${source}: ${problem.message}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

/**
 * Reads a YAML file of Kubernetes objects (one or more documents).
 * @throws Error when a document is not an object with apiVersion, kind and metadata.name.
 */
export function readKubeObjects(path: string): KubeObject[] {
  return parseYamlDocuments(readFileSync(path, "utf8"), path).map((value, index) => asKubeObject(value, `${path} (document ${index + 1})`));
}

/**
 * Checks the envelope of a parsed document and returns it typed.
 * @throws Error naming `source` when apiVersion, kind or metadata.name is missing.
 */
export function asKubeObject(value: unknown, source: string): KubeObject {
  if (!isMap(value)) throw new Error(`${source}: not a YAML mapping`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== "string" || typeof kind !== "string") throw new Error(`${source}: apiVersion and kind are required`);
  if (!isMap(metadata) || typeof metadata.name !== "string" || metadata.name === "") throw new Error(`${source}: metadata.name is required`);
  return value as KubeObject;
}
