/**
 * `npm run render -w @rentcar/k8s -- <kustomization dir>`: prints the rendered
 * manifests as one YAML stream (what `kubectl kustomize <dir>` prints), e.g. to
 * review a change or to `kubectl apply -f -` where `-k` is unavailable.
 */
import { resolve } from "node:path";
import { stringify } from "yaml";
import { renderKustomization } from "./kustomize/render.ts";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: render-cli.ts <kustomization dir>\n");
  process.exit(2);
}
const objects = renderKustomization(resolve(process.env.INIT_CWD ?? process.cwd(), dir));
process.stdout.write(objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n"));
