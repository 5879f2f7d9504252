// kvmig evacuate on a terminal (issue 22 items 3 and 7): without NODE the nodes to choose from,
// with their VM counts; the question names the cluster, and declining changes nothing; a run
// draws the node's bar and a line per VM in place on stderr, and the summary goes to stdout.
import { describe, expect, it, onTestFinished } from "vitest";
import { startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { FakePrompter } from "../helpers/fake-prompter.js";
import { onTerminal } from "../helpers/terminal-run.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

describe("kvmig evacuate on a terminal", () => {
  it("offers the nodes with their VM counts, names the cluster in its question, and declining changes nothing", async () => {
    const cluster = await startSimCluster({ scenario: "maintenance", seed: 7, speed: 20 });
    onTestFinished(() => cluster.close());
    const prompter = new FakePrompter()
      .expect(
        "select",
        /^Which node of context sim-admin \(https:\/\/127\.0\.0\.1:\d+\) to evacuate\?$/,
        "node-1",
      )
      .expect(
        "confirm",
        /^Cordon node-1 and evacuate it on context sim-admin \(https:\/\/127\.0\.0\.1:\d+\): live-migrate 9 VMs\?$/,
        false,
      );
    const result = await onTerminal(cluster, ["evacuate"], prompter);
    prompter.assertDone();
    expect(prompter.asked[0]?.choices).toEqual([
      "node-1  10 VMs",
      "node-2  1 VM",
      "node-3  1 VM",
      "node-4  1 VM",
    ]);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("error: declined; nothing was changed");
    const node = cluster.store.get(R.node.storage, undefined, "node-1") as Any;
    expect(node.spec.unschedulable).toBeUndefined();
    expect(
      (cluster.store.list(R.vmim.storage) as Any[]).filter(
        (m) => m.metadata.generateName === "kubevirt-evacuation-",
      ),
    ).toEqual([]);
  }, 60_000);

  it("draws the bar and the VMs' lines in place, then the summary on stdout", async () => {
    const cluster = await startSimCluster({ scenario: "maintenance", seed: 7, speed: 20 });
    onTestFinished(() => cluster.close());
    const result = await onTerminal(
      cluster,
      ["evacuate", "node-1", "--restart", "--yes"],
      new FakePrompter(),
    );
    expect(result.code).toBe(3);
    // The live block: the bar with its counts, redrawn in place (first column, up, clear to the end).
    expect(result.stderr).toMatch(
      /node-1 \[[█░]{20}\] \d+\/10 {2}done \d+ · running \d+ · queued \d+ · failed \d+ · blocked \d+/,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the redraw's escapes are what is matched.
    expect(result.stderr).toMatch(/\u001B\[1G\u001B\[\d+A\u001B\[0J/);
    expect(result.stderr).toContain("cordoned node-1: no new pods are scheduled on it");
    expect(result.stderr).toMatch(/prod\/legacy-rwo: restarted on node-\d/);
    const out = result.stdout.split("\n");
    expect(out).toContain("from node-1:");
    expect(out).toContain("VM                OUTCOME     TO       TIME   ATTEMPTS   CAUSE");
    expect(out.some((l) => /^prod\/legacy-rwo\s+restarted\s+node-\d\s/.test(l))).toBe(true);
    expect(out.some((l) => /^prod\/pinned-cpu\s+failed\s+-\s+-\s+2\s+cpu-model-mismatch$/.test(l))).toBe(
      true,
    );
    expect(out).toContain("still on node-1: prod/pinned-cpu (node-1 stays cordoned)");
  }, 120_000);
});
