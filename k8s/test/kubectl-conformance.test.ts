import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { renderKustomization } from "../src/kustomize/render.ts";
import { overlayDir, OVERLAYS } from "../src/paths.ts";

/**
 * Where a real kustomize is at hand (`kubectl kustomize`, kustomize v5 inside
 * kubectl >= 1.27), our renderer must print exactly what it prints: same objects,
 * same generated names (content hashes), same order. CI machines without kubectl
 * skip this; the renderer's own tests and kustomize's hash vectors still run.
 */
const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
const kustomizeVersion = kubectl.status === 0 ? /Kustomize Version: (\S+)/.exec(kubectl.stdout)?.[1] : undefined;

describe.skipIf(!kustomizeVersion)(`our renderer vs kubectl kustomize (${kustomizeVersion ?? "kubectl not installed"})`, () => {
  it.each(OVERLAYS)("overlays/%s renders identically", (overlay) => {
    const real = spawnSync("kubectl", ["kustomize", overlayDir(overlay)], { encoding: "utf8", maxBuffer: 32 * 1024 * 1024 });
    expect(real.stderr).toBe("");
    expect(real.status).toBe(0);
    const expected = parseAllDocuments(real.stdout).map((doc) => doc.toJS() as unknown).filter((doc) => doc !== null);
    expect(renderKustomization(overlayDir(overlay))).toStrictEqual(expected);
  });
});
