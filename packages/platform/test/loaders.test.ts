import { describe, expect, it } from "vitest";
import { batchLoader } from "../src/loaders.ts";

describe("batchLoader", () => {
  it("fetches all keys of one tick in a single call and returns rows in key order", async () => {
    const calls: string[][] = [];
    const loader = batchLoader<string, { id: string }>(async (keys) => {
      calls.push([...keys]);
      return keys.filter((k) => k !== "missing").reverse().map((id) => ({ id }));
    }, (row) => row.id);
    const rows = await Promise.all(["a", "missing", "b", "c"].map((k) => loader.load(k)));
    expect(calls).toEqual([["a", "missing", "b", "c"]]);
    expect(rows).toEqual([{ id: "a" }, null, { id: "b" }, { id: "c" }]);
  });
});
