import { defineConfig } from "vitest/config";

/**
 * Manifest validation only: no database, no Redis, no cluster. Overlays are rendered by
 * `kubectl kustomize`; without kubectl the run fails at once with one line saying how to
 * install it (test/kubectl-setup.ts), instead of skipping.
 */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/kubectl-setup.ts"],
    testTimeout: 60_000,
    // Rendering (kubectl kustomize) and schema validation run in beforeAll: slow on a busy machine.
    hookTimeout: 60_000,
  },
});
