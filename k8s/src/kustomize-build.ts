import { spawnSync } from "node:child_process";
import type { KubeObject } from "./kube-object.ts";
import { asKubeObject, parseYamlDocuments } from "./yaml-documents.ts";

/** What the k8s checks say, in one line, on a machine without kubectl. */
export const KUBECTL_MISSING =
  "kubectl is not on PATH: install kubectl >= 1.27 (it contains kustomize v5), see https://kubernetes.io/docs/tasks/tools/#kubectl";

/**
 * Renders the kustomization in `dir` with the real kustomize, `kubectl kustomize <dir>`:
 * exactly what `kubectl apply -k <dir>` applies. Objects come back in kustomize's output order.
 * @throws Error(KUBECTL_MISSING) when kubectl is not installed; an Error with kustomize's
 *   own message when the build fails (bad patch, missing file, duplicate object, ...).
 */
export function kustomizeBuild(dir: string): KubeObject[] {
  const result = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") throw new Error(KUBECTL_MISSING);
  if (result.error) throw new Error(`kubectl kustomize ${dir}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr.trim()}`);
  const source = `kubectl kustomize ${dir}`;
  return parseYamlDocuments(result.stdout, source).map((value, index) => asKubeObject(value, `${source} (document ${index + 1})`));
}

/** Fails at once, with KUBECTL_MISSING, when kubectl is not installed (vitest globalSetup). */
export function assertKubectlInstalled(): void {
  const result = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8", timeout: 30_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") throw new Error(KUBECTL_MISSING);
}
