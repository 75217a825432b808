import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { goJsonMarshal } from "../src/kustomize/go-json.ts";
import { splitImage } from "../src/kustomize/images.ts";
import { kustomizeNameHash } from "../src/kustomize/name-hash.ts";
import { renderKustomization } from "../src/kustomize/render.ts";
import { strategicMerge } from "../src/kustomize/strategic-merge.ts";
import type { KubeObject } from "../src/kube-object.ts";
import { removeTree, writeTree } from "./temp-tree.ts";

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: app
          image: web
          args: ["--a"]
          envFrom: [{ configMapRef: { name: settings } }]
          env: [{ name: MODE, valueFrom: { configMapKeyRef: { name: settings, key: MODE } } }]
          resources: { requests: { cpu: 100m } }
        - name: sidecar
          image: registry.example.com:5000/tools/sidecar:1.0
      volumes:
        - name: files
          configMap: { name: files }
        - name: projected
          projected: { sources: [{ configMap: { name: files } }] }
`;

let roots: string[] = [];
const tree = (files: Record<string, string>) => {
  const root = writeTree(files);
  roots.push(root);
  return root;
};
afterEach(() => {
  roots.forEach(removeTree);
  roots = [];
});
const find = (objects: KubeObject[], kind: string, prefix: string) => objects.find((o) => o.kind === kind && o.metadata.name.startsWith(prefix));

describe("kustomize name hash (vectors from kustomize's api/hasher tests)", () => {
  const cm = (extra: Record<string, unknown>): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "" }, ...extra });
  it.each([
    ["empty data", cm({}), "6ct58987ht"],
    ["one key", cm({ data: { one: "" } }), "9g67k2htb6"],
    ["three keys, sorted", cm({ data: { two: 2, one: "", three: 3 } }), "7757f9kkct"],
    ["binary data", cm({ binaryData: { one: "" } }), "6mtk2m274t"],
    ["data and binary data", cm({ data: { one: "" }, binaryData: { two: "" } }), "698h7c7t9m"],
    ["secret, one key", { apiVersion: "v1", kind: "Secret", type: "my-type", metadata: { name: "" }, data: { one: "" } } as KubeObject, "74bd68bm66"],
    ["secret with stringData", { apiVersion: "v1", kind: "Secret", type: "my-type", metadata: { name: "" }, data: { one: "" }, stringData: { two: 2 } } as KubeObject, "c4h4264gdb"],
  ])("%s", (_name, object, hash) => {
    expect(kustomizeNameHash(object)).toBe(hash);
  });

  it("ignores the name, as kustomize v5 does (vectors printed by kubectl kustomize, kustomize v5.5.0)", () => {
    const cm = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
    expect(kustomizeNameHash(cm("example-configmap-1", { "application.properties": "FOO=Bar\n" }))).toBe("g4hk9g2ff8");
    expect(kustomizeNameHash(cm("example-configmap-2", { FOO: "Bar" }))).toBe("42cfbf598f");
    expect(kustomizeNameHash(cm("another-name", { FOO: "Bar" }))).toBe("42cfbf598f");
  });

  it("encodes strings like Go's encoding/json", () => {
    expect(goJsonMarshal({ b: "x & <y>", a: "\u2028\u0001\n" })).toBe('{"a":"\\u2028\\u0001\\n","b":"x \\u0026 \\u003cy\\u003e"}');
  });
});

describe("renderKustomization", () => {
  it("generates hashed ConfigMaps and rewrites every reference to them", () => {
    const root = tree({
      "kustomization.yaml": `resources: [deployment.yaml]
configMapGenerator:
  - name: settings
    literals: [MODE=fast, QUOTED="a b"]
  - name: files
    files: [conf.txt, renamed.txt=other.txt]
  - name: fixed
    literals: [A=1]
    options: { disableNameSuffixHash: true }
`,
      "deployment.yaml": DEPLOYMENT,
      "conf.txt": "hello\n",
      "other.txt": "other\n",
    });
    const objects = renderKustomization(root);
    const settings = find(objects, "ConfigMap", "settings-")!;
    const files = find(objects, "ConfigMap", "files-")!;
    expect(settings.metadata.name).toMatch(/^settings-[a-z0-9]{10}$/);
    expect(settings.data).toEqual({ MODE: "fast", QUOTED: "a b" });
    expect(files.data).toEqual({ "conf.txt": "hello\n", "renamed.txt": "other\n" });
    expect(find(objects, "ConfigMap", "fixed")!.metadata.name).toBe("fixed");
    const pod = (find(objects, "Deployment", "web")!.spec as any).template.spec;
    expect(pod.containers[0].envFrom[0].configMapRef.name).toBe(settings.metadata.name);
    expect(pod.containers[0].env[0].valueFrom.configMapKeyRef.name).toBe(settings.metadata.name);
    expect(pod.volumes[0].configMap.name).toBe(files.metadata.name);
    expect(pod.volumes[1].projected.sources[0].configMap.name).toBe(files.metadata.name);
    // Kind-first legacy order: ConfigMaps before the Deployment.
    expect(objects.map((o) => o.kind)).toEqual(["ConfigMap", "ConfigMap", "ConfigMap", "Deployment"]);
  });

  it("hashes the final content: an overlay patch changes the base ConfigMap's name", () => {
    const files = {
      "base/kustomization.yaml": "resources: [deployment.yaml]\nconfigMapGenerator: [{ name: settings, literals: [MODE=fast] }]\n",
      "base/deployment.yaml": DEPLOYMENT.replace(/volumes:[\s\S]*$/, "volumes: []\n"),
      "overlay/kustomization.yaml": "resources: [../base]\npatches: [{ path: cm.yaml }]\n",
      "overlay/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { MODE: slow }\n",
    };
    const root = tree(files);
    const base = find(renderKustomization(join(root, "base")), "ConfigMap", "settings")!;
    const overlay = find(renderKustomization(join(root, "overlay")), "ConfigMap", "settings")!;
    expect(overlay.data).toEqual({ MODE: "slow" });
    expect(overlay.metadata.name).not.toBe(base.metadata.name);
  });

  it("applies namespace, labels (templates, not selectors) and images", () => {
    const root = tree({
      "kustomization.yaml": `namespace: shop
resources: [ns.yaml, deployment.yaml]
labels:
  - pairs: { team: cars }
    includeTemplates: true
images:
  - { name: web, newName: registry.example.com/web, newTag: "1.2.3" }
  - { name: registry.example.com:5000/tools/sidecar, digest: "sha256:abc" }
configMapGenerator: [{ name: settings, literals: [MODE=x] }, { name: files, literals: [a=b] }]
`,
      "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: whatever }\n",
      "deployment.yaml": DEPLOYMENT,
    });
    const objects = renderKustomization(root);
    expect(find(objects, "Namespace", "")!.metadata.name).toBe("shop");
    const deployment = find(objects, "Deployment", "web")! as any;
    expect(deployment.metadata.namespace).toBe("shop");
    expect(deployment.metadata.labels).toEqual({ app: "web", team: "cars" });
    expect(deployment.spec.template.metadata.labels).toEqual({ app: "web", team: "cars" });
    expect(deployment.spec.selector.matchLabels).toEqual({ app: "web" });
    expect(deployment.spec.template.spec.containers.map((c: any) => c.image)).toEqual(["registry.example.com/web:1.2.3", "registry.example.com:5000/tools/sidecar@sha256:abc"]);
  });

  it("applies strategic merge patches by name and by target selector", () => {
    const root = tree({
      "kustomization.yaml": `resources: [deployment.yaml, other.yaml]
patches:
  - path: by-name.yaml
  - target: { kind: Deployment, labelSelector: app=web }
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: ignored }
      spec:
        template:
          spec:
            containers:
              - name: app
                args: ["--b"]
                resources: { limits: { cpu: "1" } }
              - name: added
                image: added:1
`,
      "deployment.yaml": DEPLOYMENT,
      "other.yaml": DEPLOYMENT.replaceAll("web", "other"),
      "by-name.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  minReadySeconds: 5\n  template:\n    spec:\n      volumes: null\n",
    });
    const objects = renderKustomization(root);
    const web = find(objects, "Deployment", "web")! as any;
    const other = find(objects, "Deployment", "other")! as any;
    expect(web.spec.minReadySeconds).toBe(5);
    expect(web.spec.template.spec.volumes).toBeUndefined();
    expect(web.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["app", "sidecar", "added"]);
    const app = web.spec.template.spec.containers[0];
    expect(app.args).toEqual(["--b"]); // lists without a merge key are replaced
    expect(app.resources).toEqual({ requests: { cpu: "100m" }, limits: { cpu: "1" } }); // maps merge
    expect(other.spec.template.spec.containers).toHaveLength(2); // not selected by the label
    expect(other.spec.minReadySeconds).toBeUndefined();
  });

  it("merges containers by name, env by name and volumeMounts by mountPath", () => {
    const merged = strategicMerge(
      { containers: [{ name: "a", env: [{ name: "X", value: "1" }, { name: "Y", value: "2" }], volumeMounts: [{ name: "v", mountPath: "/v" }] }] },
      { containers: [{ name: "a", env: [{ name: "Y", value: "3" }, { name: "Z", value: "4" }], volumeMounts: [{ mountPath: "/v", readOnly: true }] }] },
    );
    expect(merged).toEqual({ containers: [{ name: "a", env: [{ name: "X", value: "1" }, { name: "Y", value: "3" }, { name: "Z", value: "4" }], volumeMounts: [{ name: "v", mountPath: "/v", readOnly: true }] }] });
  });

  it("splits image references like kustomize", () => {
    expect(splitImage("nginx")).toEqual({ name: "nginx", tag: "", digest: "" });
    expect(splitImage("localhost:5000/a/b:1.0")).toEqual({ name: "localhost:5000/a/b", tag: "1.0", digest: "" });
    expect(splitImage("a/b@sha256:ff")).toEqual({ name: "a/b", tag: "", digest: "sha256:ff" });
    expect(splitImage("a/b:1@sha256:ff")).toEqual({ name: "a/b", tag: "1", digest: "sha256:ff" });
  });

  it.each([
    ["a file outside the kustomization root", { "k/kustomization.yaml": "resources: [../outside.yaml]\n", "outside.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n" }, /is not in or below/],
    ["a generator file outside the root", { "k/kustomization.yaml": "configMapGenerator: [{ name: x, files: [../outside.txt] }]\n", "outside.txt": "x" }, /is not in or below/],
    ["an unsupported field", { "k/kustomization.yaml": "commonLabels: { a: b }\n" }, /field "commonLabels" is not supported/],
    ["a JSON 6902 patch", { "k/kustomization.yaml": "resources: [ns.yaml]\npatches: [{ target: { kind: Namespace }, patch: '[{op: remove, path: /metadata}]' }]\n", "k/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n" }, /JSON 6902 patches are not supported/],
    ["a patch that matches nothing", { "k/kustomization.yaml": "resources: [ns.yaml]\npatches: [{ path: p.yaml }]\n", "k/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n", "k/p.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: y }\n" }, /no resource matches/],
    ["a $patch directive", { "k/kustomization.yaml": "resources: [ns.yaml]\npatches: [{ path: p.yaml }]\n", "k/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n", "k/p.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x, labels: { $patch: replace } }\n" }, /directive/],
    ["a duplicate resource", { "k/kustomization.yaml": "resources: [ns.yaml, ns2.yaml]\n", "k/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n", "k/ns2.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: { name: x }\n" }, /already registered id/],
    ["a duplicate YAML key", { "k/kustomization.yaml": "resources: [ns.yaml]\nresources: [ns.yaml]\n" }, /unique|duplicate/i],
  ])("refuses %s", (_name, files, error) => {
    const root = tree(files as Record<string, string>);
    expect(() => renderKustomization(join(root, "k"))).toThrow(error);
  });

  it("refuses a symlink that leads outside the root (kustomize resolves symlinks first)", () => {
    const root = tree({ "k/kustomization.yaml": "configMapGenerator: [{ name: x, files: [link.txt] }]\n", "outside.txt": "x" });
    symlinkSync(join(root, "outside.txt"), join(root, "k", "link.txt"));
    expect(() => renderKustomization(join(root, "k"))).toThrow(/is not in or below/);
  });
});
