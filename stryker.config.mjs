// StrykerJS options shared by every run of `npm run mutate` (scripts/mutate.mjs), which adds the
// module to mutate (`mutate`) and a vitest config listing only the tests that cover it.

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { related: false },
  // TypeScript 7 removed the API that Stryker's tsconfig step calls (it rewrites `references`
  // and `extends`): pointing it at a file that does not exist makes Stryker skip that step. For
  // the same reason there is no typescript checker; mutants that would not compile just fail
  // their tests (vitest strips types without checking them).
  tsconfigFile: "tsconfig.stryker-none.json",
  checkers: [],
  coverageAnalysis: "perTest",
  // The machine has two cores, and other work shares them.
  concurrency: 2,
  tempDirName: ".stryker-tmp",
  // What the sandbox copy of the project can leave out.
  ignorePatterns: ["reports", "release", "coverage", "*.cpuprofile", ".vitest-report.json"],
  reporters: ["progress", "html", "json"],
  thresholds: { high: 90, low: 80, break: null },
};
