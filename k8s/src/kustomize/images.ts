import type { KubeObject } from "../kube-object.ts";
import { containersOf, podSpecOf } from "./pod-specs.ts";

/** One entry of a kustomization's `images:` field. */
export interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

/**
 * Splits an image reference into name, tag and digest the way kustomize's
 * `image.Split` does (a registry port before the first `/` is not a tag).
 */
export function splitImage(image: string): { name: string; tag: string; digest: string } {
  const slash = image.indexOf("/");
  const offset = slash > 0 ? slash : 0;
  const search = image.slice(offset);
  let at = search.indexOf("@");
  let colon = search.indexOf(":");
  if (colon < 0 && at < 0) return { name: image, tag: "", digest: "" };
  if (at >= 0 && (at < colon || colon < 0)) {
    at += offset;
    return { name: image.slice(0, at), tag: "", digest: image.slice(at + 1) };
  }
  colon += offset;
  if (at >= 0) {
    at += offset;
    return { name: image.slice(0, colon), tag: image.slice(colon + 1, at), digest: image.slice(at + 1) };
  }
  return { name: image.slice(0, colon), tag: image.slice(colon + 1), digest: "" };
}

/**
 * Applies one `images:` override to every container image named `override.name`
 * (kustomize's ImageTagTransformer: a new tag replaces tag and digest, a digest
 * replaces both, both set gives `name:tag@digest`).
 */
export function applyImageOverride(objects: KubeObject[], override: ImageOverride): void {
  for (const object of objects) {
    const podSpec = podSpecOf(object);
    if (!podSpec) continue;
    for (const { container } of containersOf(podSpec)) {
      if (typeof container.image !== "string") continue;
      let { name, tag, digest } = splitImage(container.image);
      if (name !== override.name) continue;
      if (override.newName) name = override.newName;
      if (override.newTag && override.digest) [tag, digest] = [override.newTag, override.digest];
      else if (override.newTag) [tag, digest] = [override.newTag, ""];
      else if (override.digest) [tag, digest] = ["", override.digest];
      container.image = `${name}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
    }
  }
}
