import { assertKubectlInstalled } from "../src/kustomize-build.ts";

/** vitest globalSetup: the k8s tests need kubectl (its kustomize renders the overlays). */
export default function setup(): void {
  assertKubectlInstalled();
}
