import { defineConfig } from "vitest/config";

/** Shared by every workspace: integration tests talk to real PostgreSQL, Redis and processes. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Test files of one workspace share the machine's 2 cores with real services.
    fileParallelism: false,
  },
});
