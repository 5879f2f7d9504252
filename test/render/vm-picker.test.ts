// The VM picker: which VMs each command offers and how they read, then each command on a
// terminal (the prompter seam) against a simulated cluster, and the usage error without one.
import { afterEach, describe, expect, it } from "vitest";
import type { KubeConnector } from "../../src/k8s/provider.js";
import type {
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import { pickerLabels, pickerRows } from "../../src/render/vm-picker.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { FakePrompter } from "../helpers/fake-prompter.js";
import { schemaErrors } from "../helpers/schemas.js";
import { onTerminal } from "../helpers/terminal-run.js";
import { runCli } from "../helpers/test-context.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

const vmi = (name: string, node: string, phase: Any = "Running", owned = true): VirtualMachineInstance => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: {
    name,
    namespace: "demo",
    ...(owned
      ? {
          ownerReferences: [
            { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name, uid: `vm-${name}` },
          ],
        }
      : {}),
  },
  spec: {},
  status: { phase, nodeName: node },
});
const vmim = (name: string, vmiName: string, phase: Any): VirtualMachineInstanceMigration => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstanceMigration",
  metadata: {
    name,
    namespace: "demo",
    labels: { "kubevirt.io/vmi-name": vmiName },
    creationTimestamp: "2026-11-26T01:00:00Z",
  },
  spec: { vmiName },
  status: { phase },
});
const vm = (name: string, printableStatus: string): VirtualMachine => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name, namespace: "demo" },
  spec: {},
  status: { printableStatus },
});

const vmis = [
  vmi("web", "node-1"),
  vmi("db", "node-2"),
  vmi("adhoc", "node-3", "Running", false),
  vmi("api", "node-1"),
];
const migrations = [vmim("m1", "db", "Running"), vmim("m0", "web", "Succeeded")];

describe("pickerRows", () => {
  it("migrate: every VMI by name, with node, phase and the unfinished migration's phase", () => {
    expect(pickerRows("migrate", vmis, migrations)).toEqual([
      { name: "adhoc", node: "node-3", phase: "Running", migrating: undefined },
      { name: "api", node: "node-1", phase: "Running", migrating: undefined },
      { name: "db", node: "node-2", phase: "Running", migrating: "Running" },
      { name: "web", node: "node-1", phase: "Running", migrating: undefined },
    ]);
  });

  it("watch: migrating VMs first", () => {
    expect(pickerRows("watch", vmis, migrations).map((r) => r.name)).toEqual(["db", "adhoc", "api", "web"]);
  });

  it("cancel: only VMs with an unfinished migration (a Succeeded one does not count)", () => {
    expect(pickerRows("cancel", vmis, migrations).map((r) => r.name)).toEqual(["db"]);
    expect(pickerRows("cancel", vmis, [vmim("m0", "web", "Succeeded")])).toEqual([]);
  });

  it("restart: only VMIs a VirtualMachine owns (a standalone VMI cannot be restarted)", () => {
    expect(pickerRows("restart", vmis, []).map((r) => r.name)).toEqual(["api", "db", "web"]);
  });

  it("diagnose: also the VMs that do not run, with their printable status", () => {
    const rows = pickerRows(
      "diagnose",
      [vmi("web", "node-1")],
      [],
      [vm("web", "Running"), vm("old", "Stopped")],
    );
    expect(rows).toEqual([
      { name: "old", node: "-", phase: "Stopped" },
      { name: "web", node: "node-1", phase: "Running", migrating: undefined },
    ]);
  });

  it("labels line up in columns", () => {
    const labels = pickerLabels(pickerRows("watch", vmis, migrations));
    expect(labels).toEqual([
      "db      node-2   Running   migrating (Running)",
      "adhoc   node-3   Running",
      "api     node-1   Running",
      "web     node-1   Running",
    ]);
  });
});

const refuseToConnect: KubeConnector = async () => {
  throw new Error("a missing VM without a terminal must not read anything");
};

describe("without a terminal: exit 2 naming the argument, nothing read", () => {
  it.each([
    [["migrate"], "the VM to migrate", "kvmig migrate VM -n NAMESPACE"],
    [["cancel", "-n", "demo"], "the VM whose migration to cancel", "kvmig cancel VM -n demo"],
    [["restart", "--force"], "the VM to restart", "kvmig restart VM -n NAMESPACE"],
    [
      ["diagnose", "-n", "prod"],
      "the VM to diagnose",
      "kvmig diagnose VM -n prod, or --from DIR for saved evidence",
    ],
    [["watch", "--pick"], "the VM to watch", "kvmig watch VM -n NAMESPACE"],
  ])("%j", async (argv, purpose, hint) => {
    const result = await runCli(argv, { connect: refuseToConnect, env: {} });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      `error: missing required argument VM (${purpose})`,
      `hint: ${hint}; on a terminal kvmig offers a list to choose from`,
    ]);
  });

  it("watch with a VM and --pick is a usage error", async () => {
    const result = await runCli(["watch", "db", "--pick"], { connect: refuseToConnect, env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: --pick and a VM name cannot be combined");
  });
});

describe("on a terminal, against the simulated cluster", () => {
  let cluster: SimCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  const start = async () => {
    cluster = await startSimCluster({ seed: 7, manualTime: true });
    return cluster;
  };
  const demoVmis = (sim: SimCluster) =>
    (sim.store.list(R.vmi.storage, "demo") as Any[]).map((v) => v.metadata.name as string).sort();
  const migrationsOf = (sim: SimCluster, name: string) =>
    (sim.store.list(R.vmim.storage, "demo") as Any[]).filter((m) => m.spec.vmiName === name);

  it("migrate: the list shows every VMI of the namespace with its node; the picked one moves", async () => {
    const sim = await start();
    const prompter = new FakePrompter().expect(
      "search",
      "VM to migrate (namespace demo; type to filter)",
      "cirros-test",
    );
    const result = await onTerminal(sim, ["migrate", "-n", "demo", "--no-wait"], prompter);
    prompter.assertDone();
    expect(result.stderr).not.toContain("error:");
    expect(result.code).toBe(0);
    const offered = prompter.asked[0]?.choices ?? [];
    expect(offered.map((label) => label.split(/\s+/)[0])).toEqual(demoVmis(sim));
    const cirros = (sim.store.list(R.vmi.storage, "demo") as Any[]).find(
      (o) => o.metadata.name === "cirros-test",
    ) as Any;
    expect(offered.find((l) => l.startsWith("cirros-test"))).toMatch(
      new RegExp(`^cirros-test\\s+${cirros.status.nodeName}\\s+Running$`),
    );
    expect(migrationsOf(sim, "cirros-test")).toHaveLength(1);
  });

  it("cancel: only the migrating VM is offered, then the usual confirmation", async () => {
    const sim = await start();
    // Simulated time stands still, so the migration stays unfinished.
    const started = await onTerminal(
      sim,
      ["migrate", "rhel-db", "-n", "demo", "--no-wait"],
      new FakePrompter(),
    );
    expect(started.code).toBe(0);
    const prompter = new FakePrompter()
      .expect("search", "VM whose migration to cancel (namespace demo; type to filter)", "rhel-db")
      .expect("confirm", /^Cancel migration kubevirt-migrate-vm-\w+ of demo\/rhel-db/, true);
    const result = await onTerminal(sim, ["cancel", "-n", "demo", "--no-wait"], prompter);
    prompter.assertDone();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(prompter.asked[0]?.choices).toHaveLength(1);
    expect(prompter.asked[0]?.choices?.[0]).toMatch(
      /^rhel-db\s+node-\d\s+Running\s+migrating \((Pending|Scheduling|Scheduled|PreparingTarget|TargetReady|Running)\)$/,
    );
    expect(result.stdout).toMatch(/abort requested: migration kubevirt-migrate-vm-\w+/);
  });

  it("cancel with nothing migrating: no question, exit 0, and it says so", async () => {
    const sim = await start();
    const prompter = new FakePrompter();
    const result = await onTerminal(sim, ["cancel", "-n", "demo"], prompter);
    expect(result.code).toBe(0);
    expect(prompter.asked).toEqual([]);
    expect(result.stdout).toBe("nothing to cancel: no VM in namespace demo has an unfinished migration\n");
  });

  it("cancel -o json with nothing migrating: vm null, as docs/schemas/cancel.schema.json has it", async () => {
    const sim = await start();
    const result = await onTerminal(sim, ["cancel", "-n", "demo", "-o", "json"], new FakePrompter());
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toEqual({
      vm: null,
      namespace: "demo",
      outcome: "nothing-to-cancel",
      migration: null,
      evacuationNodeName: null,
    });
    expect(schemaErrors("cancel.schema.json", out)).toBe("");
  });

  it("restart --force: the VM's name typed back restarts it", async () => {
    const sim = await start();
    const before = (
      (sim.store.list(R.vmi.storage, "demo") as Any[]).find((o) => o.metadata.name === "cirros-test") as Any
    ).metadata.uid;
    const prompter = new FakePrompter()
      .expect("search", "VM to restart (namespace demo; type to filter)", "cirros-test")
      .expect(
        "input",
        /^Force-restart demo\/cirros-test on context sim-admin \(https:\/\/127\.0\.0\.1:\d+\) now \(grace period 0\)\? Type the VM's name, cirros-test, to go on:$/,
        "cirros-test",
      );
    const result = await onTerminal(sim, ["restart", "-n", "demo", "--force", "--no-wait"], prompter);
    prompter.assertDone();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("was scheduled to restart");
    const vmObject = (sim.store.list(R.vm.storage, "demo") as Any[]).find(
      (o) => o.metadata.name === "cirros-test",
    ) as Any;
    const vmiNow = (sim.store.list(R.vmi.storage, "demo") as Any[]).find(
      (o) => o.metadata.name === "cirros-test",
    ) as Any;
    // The restart request reached KubeVirt: the old VMI is being deleted (or already replaced).
    expect(
      vmiNow === undefined ||
        vmiNow.metadata.deletionTimestamp !== undefined ||
        vmiNow.metadata.uid !== before ||
        vmObject.status?.stateChangeRequests?.length > 0,
    ).toBe(true);
  });

  it("restart --force: another name typed back changes nothing, exit 130", async () => {
    const sim = await start();
    const before = (sim.store.list(R.vmi.storage, "demo") as Any[]).find(
      (o) => o.metadata.name === "cirros-test",
    ) as Any;
    const prompter = new FakePrompter().expect("input", /Type the VM's name, cirros-test/, "cirros");
    const result = await onTerminal(sim, ["restart", "cirros-test", "-n", "demo", "--force"], prompter);
    prompter.assertDone();
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('error: "cirros" is not cirros-test; nothing was changed');
    const after = (sim.store.list(R.vmi.storage, "demo") as Any[]).find(
      (o) => o.metadata.name === "cirros-test",
    ) as Any;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.deletionTimestamp).toBeUndefined();
  });

  it("diagnose: the picked VM is diagnosed", async () => {
    const sim = await start();
    const prompter = new FakePrompter().expect(
      "search",
      "VM to diagnose (namespace demo; type to filter)",
      "fedora-web",
    );
    const result = await onTerminal(sim, ["diagnose", "-n", "demo"], prompter);
    prompter.assertDone();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/demo\/fedora-web: no problems found/);
  });

  it("watch --pick: the picked VM is the one followed", async () => {
    const sim = await start();
    const prompter = new FakePrompter().expect(
      "search",
      "VM to watch (namespace demo; type to filter)",
      "win-app",
    );
    const result = await onTerminal(sim, ["watch", "--pick", "-n", "demo"], prompter);
    prompter.assertDone();
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("error: no migration found for demo/win-app");
  });

  it("an empty namespace: exit 5, no question", async () => {
    const sim = await start();
    const prompter = new FakePrompter();
    const result = await onTerminal(sim, ["migrate", "-n", "kube-system"], prompter);
    expect(result.code).toBe(5);
    expect(prompter.asked).toEqual([]);
    expect(result.stderr).toContain("error: no running VMs in namespace kube-system to choose from");
  });
});
