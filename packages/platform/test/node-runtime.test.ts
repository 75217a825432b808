import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const nodeMajor = readFileSync(`${root}.nvmrc`, "utf8").trim();

/**
 * The Node that runs the tests is the LTS major the project ships (.nvmrc, `engines`, the
 * Dockerfile), not whatever the machine has system-wide: npm scripts find the `node`
 * devDependency (the official binary from the npm registry) first on PATH.
 */
describe("Node runtime", () => {
  it("runs the tests on the Node major of .nvmrc", () => {
    expect(process.version).toMatch(new RegExp(`^v${nodeMajor}\\.`));
  });

  it("finds the same major as `node` on PATH, as scripts and spawned services do", () => {
    const version = execFileSync("node", ["--version"], { encoding: "utf8" }).trim();
    expect(version).toMatch(new RegExp(`^v${nodeMajor}\\.`));
  });

  it("declares that major everywhere it is chosen", () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toMatch(new RegExp(`^\\^${nodeMajor}\\.`));
    expect(pkg.devDependencies.node).toMatch(new RegExp(`^\\^${nodeMajor}\\.`));
    expect(readFileSync(`${root}.node-version`, "utf8").trim()).toBe(nodeMajor);
    expect(readFileSync(`${root}Dockerfile`, "utf8")).toMatch(
      new RegExp(`^ARG NODE_IMAGE=node:${nodeMajor}[.\\d]*-bookworm-slim$`, "m"),
    );
  });
});
