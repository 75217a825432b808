import { defineConfig } from "vitest/config";

/** Manifest validation only: no database, no Redis, no cluster. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
