import type { KubeObject } from "../kube-object.ts";
import { objectId } from "../kube-object.ts";
import { ALLOWED_API_VERSIONS, modelModuleFor } from "./api-versions.ts";

/** One object that failed validation, with every message of the validator. */
export interface SchemaViolation {
  object: string;
  messages: string[];
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/**
 * Validates every object against the Kubernetes OpenAPI schema compiled into
 * kubernetes-models (types, formats such as quantities and int-or-string, enums,
 * required fields) and against {@link ALLOWED_API_VERSIONS}. Unknown fields are not
 * a schema error there; {@link findUnknownFields} covers them.
 * @returns one entry per failing object; empty when all are valid.
 */
export async function validateAgainstSchemas(objects: KubeObject[]): Promise<SchemaViolation[]> {
  const violations: SchemaViolation[] = [];
  for (const object of objects) {
    const allowedKinds = ALLOWED_API_VERSIONS[object.apiVersion];
    if (!allowedKinds?.includes(object.kind)) {
      violations.push({ object: objectId(object), messages: [`${object.apiVersion} ${object.kind} is not an allowed API version/kind`] });
      continue;
    }
    const module = (await import(modelModuleFor(object.apiVersion))) as Record<string, unknown>;
    const Model = module[object.kind] as ModelClass | undefined;
    if (typeof Model !== "function") {
      violations.push({ object: objectId(object), messages: [`kubernetes-models has no ${object.apiVersion} ${object.kind}`] });
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      const detail = error as { message?: string; errors?: Array<{ instancePath: string; message?: string }> };
      const messages = detail.errors?.map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`) ?? [String(detail.message)];
      violations.push({ object: objectId(object), messages: [...new Set(messages)] });
    }
  }
  return violations;
}
