import { fileURLToPath } from "node:url";

/** The k8s/ workspace directory. */
export const K8S_DIR = fileURLToPath(new URL("../", import.meta.url));
/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The overlays `npm test` renders and checks. */
export const OVERLAYS = ["local", "production"] as const;
export type OverlayName = (typeof OVERLAYS)[number];

/** Absolute directory of an overlay (relative to `k8sDir`, default this workspace). */
export function overlayDir(overlay: OverlayName, k8sDir = K8S_DIR): string {
  return fileURLToPath(new URL(`overlays/${overlay}/`, `file://${k8sDir.endsWith("/") ? k8sDir : `${k8sDir}/`}`));
}

/** The committed supergraph: the single source of truth (`npm run compose` writes it). */
export const SUPERGRAPH_SOURCE = fileURLToPath(new URL("../../router/supergraph.graphql", import.meta.url));
/** Its copy inside the kustomize base (kustomize cannot read files outside k8s/base). */
export const SUPERGRAPH_COPY = fileURLToPath(new URL("../base/router/supergraph.graphql", import.meta.url));
/** The Secret template (not part of any kustomization). */
export const SECRET_TEMPLATE = fileURLToPath(new URL("../secrets/secrets.template.yaml", import.meta.url));
