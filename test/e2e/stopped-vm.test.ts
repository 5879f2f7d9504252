// A stopped VM (no VMI) has nothing to migrate: migrate refuses before any API call that would
// change something, says so, and neither offers nor obeys --force for it.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, stoppedVm } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("migrate of a stopped VM", () => {
  for (const force of [[], ["--force"]]) {
    it(`${force.length ? "with --force" : "without --force"}: exit 8 (refused), the VMI is missing, how to start it, no migration`, async () => {
      sim = await stoppedVm();
      const result = await sim.run(["migrate", "fedora-web", "-n", "demo", ...force]);
      expect(result.code).toBe(8);
      expect(lines(result.stderr).slice(-2)).toEqual([
        "error: pre-flight: VM fedora-web is not running (no VirtualMachineInstance)",
        "hint: start it first: virtctl start fedora-web -n demo; kubectl get vm,vmi fedora-web -n demo shows both",
      ]);
      expect(sim.migrations("demo", "fedora-web")).toEqual([]);
    }, 40_000);
  }
});
