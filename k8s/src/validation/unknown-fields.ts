import { join } from "node:path";
import ts from "typescript";
import { isMap, objectId, type KubeObject } from "../kube-object.ts";
import { K8S_DIR } from "../paths.ts";
import { ALLOWED_API_VERSIONS } from "./api-versions.ts";

/** A field the Kubernetes API does not define (strict field validation would reject it). */
export interface UnknownField {
  object: string;
  path: string;
}

interface FieldTypes {
  checker: ts.TypeChecker;
  rootTypes: Map<string, ts.Type>;
}

let cached: FieldTypes | undefined;

/**
 * Loads the field definitions of every allowed kind from kubernetes-models' type
 * declarations (generated from the same OpenAPI spec as its validators) with the
 * TypeScript compiler API. Computed once per process.
 */
function loadFieldTypes(): FieldTypes {
  if (cached) return cached;
  const entry = join(K8S_DIR, "__kubernetes_kinds__.ts");
  const keys: string[] = [];
  const lines: string[] = [];
  for (const [apiVersion, kinds] of Object.entries(ALLOWED_API_VERSIONS)) {
    for (const kind of kinds) {
      const alias = `K${keys.length}`;
      lines.push(`import type { I${kind} as ${alias} } from "kubernetes-models/${apiVersion}/${kind}";`);
      keys.push(`${apiVersion} ${kind}`);
    }
  }
  lines.push(`export type Kinds = [${keys.map((_, index) => `K${index}`).join(", ")}];`);
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
    noEmit: true,
    skipLibCheck: true,
    strict: true,
  };
  const host = ts.createCompilerHost(options);
  const source = lines.join("\n");
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    fileName === entry ? ts.createSourceFile(fileName, source, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => fileName === entry || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => (fileName === entry ? source : readFile(fileName));

  const program = ts.createProgram({ rootNames: [entry], options, host });
  const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (problems.length > 0) {
    throw new Error(`cannot load kubernetes-models types: ${problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ")}`);
  }
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry);
  const alias = file?.statements.find(ts.isTypeAliasDeclaration);
  if (!alias) throw new Error("cannot load kubernetes-models types");
  const tuple = checker.getTypeAtLocation(alias.name) as ts.TypeReference;
  const elements = checker.getTypeArguments(tuple);
  const rootTypes = new Map<string, ts.Type>();
  keys.forEach((key, index) => rootTypes.set(key, elements[index] as ts.Type));
  cached = { checker, rootTypes };
  return cached;
}

/**
 * Lists fields that the Kubernetes API schema does not define — typos and
 * misplaced fields that the OpenAPI validators accept (they allow additional
 * properties) but `kubectl apply` (strict field validation) rejects, or an older
 * server silently drops. Objects of kinds outside the allow-list are skipped
 * (the schema check reports those).
 */
export function findUnknownFields(objects: KubeObject[]): UnknownField[] {
  const { checker, rootTypes } = loadFieldTypes();
  const found: UnknownField[] = [];
  for (const object of objects) {
    const type = rootTypes.get(`${object.apiVersion} ${object.kind}`);
    if (!type) continue;
    walk(checker, object, type, "", (path) => found.push({ object: objectId(object), path }));
  }
  return found;
}

function walk(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string, report: (path: string) => void): void {
  if (value === null || typeof value !== "object") return;
  const type = objectPart(checker.getNonNullableType(declared));
  if (!type) return;
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
    if (element) value.forEach((item, index) => walk(checker, item, element, `${path}[${index}]`, report));
    return;
  }
  if (!isMap(value)) return;
  const mapValues = checker.getIndexTypeOfType(type, ts.IndexKind.String);
  const properties = checker.getPropertiesOfType(type);
  if (properties.length === 0 && !mapValues) return; // opaque (e.g. FieldsV1, RawExtension)
  for (const [key, item] of Object.entries(value)) {
    const here = `${path}.${key}`;
    const property = checker.getPropertyOfType(type, key);
    if (property) walk(checker, item, checker.getTypeOfSymbol(property), here, report);
    else if (mapValues) walk(checker, item, mapValues, here, report);
    else report(here.slice(1));
  }
}

/**
 * The object-shaped member of a declared type; undefined (not checked further)
 * for scalars and scalar unions like IntOrString, and for the rare union of
 * several object types.
 */
function objectPart(type: ts.Type): ts.Type | undefined {
  const members = type.isUnion() ? type.types : [type];
  const objects = members.filter((member) => (member.flags & ts.TypeFlags.Object) !== 0);
  return objects.length === 1 ? objects[0] : undefined;
}

