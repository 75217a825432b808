import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { composeSupergraph, SUPERGRAPH_FILE } from "../src/index.ts";

describe("supergraph composition", () => {
  const composition = composeSupergraph();

  it("composes the subgraph SDLs with no errors and no hints", () => {
    expect(composition.errors).toEqual([]);
    expect(composition.hints).toEqual([]);
  });

  it("matches the committed router/supergraph.graphql (run `npm run compose` if this fails)", () => {
    expect(readFileSync(SUPERGRAPH_FILE, "utf8")).toBe(composition.supergraphSdl);
  });

  it("keeps internal operations out of the public API", () => {
    expect(composition.supergraphSdl).toMatch(/registerPayment\(.*\): Payment!.*@inaccessible/);
  });
});
