// Issue 19 item 8: a namespace that does not exist reads the same on every path, one error line,
// one hint, exit 5, whether the command names a VM, watches or lists a namespace, or (on a
// terminal) offers a picker. Lists in a missing namespace come back empty, not 404, so without
// this a watch waited for ever and `outdated` said "nothing outdated" (exit 0).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { FakePrompter } from "../helpers/fake-prompter.js";
import { onTerminal } from "../helpers/terminal-run.js";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

const expected = [
  'error: namespace "nowhere" not found',
  "hint: list the namespaces with: kubectl get namespaces, and pass one with -n",
];

let sim: SimCli;
beforeAll(async () => {
  await ensureBuilt();
  sim = await simCli({ speed: 10 });
}, 120_000);
afterAll(() => sim?.close());

describe("a namespace that does not exist", () => {
  it.each([
    ["migrate", "fedora-web"],
    ["watch", "fedora-web"],
    ["watch", "--exit-on-done"],
    ["watch", "-o", "json", "--exit-on-done"],
    ["cancel", "fedora-web"],
    ["restart", "fedora-web"],
    ["diagnose", "fedora-web"],
    ["outdated"],
    ["outdated", "--migrate", "--yes"],
  ])(
    "kvmig %s %s: exit 5, the same two lines",
    async (...args) => {
      const result = await sim.run([...args, "-n", "nowhere"]);
      expect(lines(result.stderr)).toEqual(expected);
      expect(result.stdout).toBe("");
      expect(result.code).toBe(5);
    },
    30_000,
  );
});

describe("a namespace that does not exist, on a terminal with no VM named", () => {
  let cluster: SimCluster;
  beforeAll(async () => {
    cluster = await startSimCluster({ seed: 7 });
  });
  afterAll(() => cluster?.close());

  it.each(["migrate", "restart", "cancel", "diagnose"])(
    "kvmig %s -n nowhere: the picker is not offered; exit 5, the same two lines",
    async (command) => {
      const result = await onTerminal(cluster, [command, "-n", "nowhere"], new FakePrompter());
      expect(lines(result.stderr)).toEqual(expected);
      expect(result.code).toBe(5);
    },
  );
});
