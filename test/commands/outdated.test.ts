// kvmig outdated in-process on a terminal, against a simulated cluster: the checkbox picks which
// VMs to cycle, and the restart confirmation can drop the restarts while the migrations go on.
import { afterEach, describe, expect, it } from "vitest";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { FakePrompter } from "../helpers/fake-prompter.js";
import { onTerminal } from "../helpers/terminal-run.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const job = (name: string, action: "migrate" | "restart", node: string) => ({
  namespace: "team-b",
  name,
  vmi: name,
  standalone: false,
  action,
  node,
});

describe("kvmig outdated --migrate --restart on a terminal", () => {
  it("the checkbox lists the candidates; declining the restart confirmation leaves the restarts out", async () => {
    const prompter = new FakePrompter()
      .expect("checkbox", "Which VMs? (space toggles, enter starts)", [
        job("build-cache", "restart", "node-1"),
        job("worker-2", "migrate", "node-2"),
      ])
      .expect("confirm", "Restart 1 VM with downtime (team-b/build-cache)?", false);
    cluster = await startSimCluster({ seed: 7, scenario: "upgrade", speed: 2 });
    const before = new Map(
      (cluster.store.list(R.vmi.storage, "team-b") as Any[]).map((v) => [v.metadata.name, v.metadata.uid]),
    );
    const r = await onTerminal(
      cluster,
      ["outdated", "-n", "team-b", "--migrate", "--restart", "-o", "json"],
      prompter,
    );
    prompter.assertDone();
    expect(r.code).toBe(0);
    expect(prompter.asked.map((q) => q.flag)).toEqual(["--yes", "--yes"]);
    const report = JSON.parse(r.stdout);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ vm: "worker-2", action: "migrate", outcome: "succeeded" });
    const vmis = cluster?.store.list(R.vmi.storage, "team-b") as Any[];
    const uid = (name: string) => vmis.find((v) => v.metadata.name === name).metadata.uid;
    // The declined restart never happened; the migration kept its VMI.
    expect(uid("build-cache")).toBe(before.get("build-cache"));
    expect(uid("worker-2")).toBe(before.get("worker-2"));
    expect(vmis.find((v) => v.metadata.name === "build-cache").metadata.labels).toHaveProperty(
      "kubevirt.io/outdatedLauncherImage",
    );
    expect(vmis.find((v) => v.metadata.name === "worker-2").metadata.labels).not.toHaveProperty(
      "kubevirt.io/outdatedLauncherImage",
    );
  }, 60_000);
});
