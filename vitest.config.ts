import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // chalk loaded, as a run that may colour has it (test/helpers/colors-loaded.ts).
    setupFiles: ["test/helpers/colors-loaded.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // The end-to-end files mostly wait on simulated clusters and child processes (CPU use is about
    // half of one core over a run), so more files than cores run side by side.
    maxWorkers: 4,
    // The JSON report feeds the "N passed, N failed" line that .ci/run prints last.
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
