import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Generous ceilings, not budgets: a test's own assertions say how fast things must be (on the
    // engine's own time where a wall-clock bound is the guarantee, test/support/engine-time.ts). On
    // CI's two cores shared with other suites, an outage replay that takes 5 s quiet takes 20 s.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One worker per core but one (vitest's default for `run`): on two cores, one test file at a time.
    pool: "forks",
  },
});
