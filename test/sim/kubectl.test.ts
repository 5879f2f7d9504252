// The real kubectl against the simulated cluster: what it prints for the commands a KubeVirt
// user runs around a live migration (get, watch, create, patch, delete, logs, auth), parsed and
// compared with the seed. Read-only commands share one cluster; commands that write get a fresh one.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { vmimPhases } from "../../src/k8s/types.js";
import type { SimCluster } from "../../src/sim/cluster.js";
import type { SimObject } from "../../src/sim/store.js";
import {
  fields,
  findKubectl,
  Kubectl,
  type KubectlOptions,
  type KubectlResult,
  outputLines,
  parseTable,
  parseTables,
} from "../helpers/kubectl.js";
import { apiServerOnly, simPerTest } from "../helpers/sim.js";

const binary = findKubectl();
if (!binary) console.warn("kubectl is neither on PATH nor at /usr/bin/kubectl: skipping the kubectl tests");
const describeKubectl = binary ? describe : describe.skip;

/** Generous: kubectl starts a process per command, and test files run in parallel. */
const timeout = 60_000;

/** The seed's VMs in `demo` (name order) and the node each runs on. */
const vmNodes: Record<string, string> = {
  "cirros-test": "node-3",
  "fedora-web": "node-1",
  "legacy-pvc": "node-3",
  "rhel-db": "node-2",
  "win-app": "node-2",
};
const vmNames = Object.keys(vmNodes);
const outdated = ["cirros-test", "win-app"];

const vmiStorage = "virtualmachineinstances.kubevirt.io";
const vmimStorage = "virtualmachineinstancemigrations.kubevirt.io";

/** kubectl's human-readable age: `11d`, `5h12m`, `2d7h`, `27h`, `3s`. */
const age = /^(\d+[smhdy])+$/;

const outdatedLabel = "kubevirt.io/outdatedLauncherImage";
const vmiHeaderAllNamespaces = ["NAMESPACE", "NAME", "AGE", "PHASE", "IP", "NODENAME", "READY"];
const vmimHeader = ["NAME", "PHASE", "VMI"];
/** The phases of a migration that succeeds, in the order KubeVirt sets them. */
const successPhases = vmimPhases.slice(vmimPhases.indexOf("Pending"), vmimPhases.indexOf("Succeeded") + 1);

/** A clean success: exit code 0, and nothing on stderr. */
function printed(stdout: string): KubectlResult {
  return { stdout, stderr: "", code: 0 };
}

/** `kubectl get vmim -n demo` with no migrations: a success that says so on stderr. */
const noMigrations: KubectlResult = {
  stdout: "",
  stderr: "No resources found in demo namespace.\n",
  code: 0,
};

/** `kubectl auth can-i` answers: "no" is exit code 1. */
const yes = printed("yes\n");
const no: KubectlResult = { stdout: "no\n", stderr: "", code: 1 };

/** kubectl gave up on an error from the server: exit code 1 and `message` on stderr. */
function expectServerError(result: KubectlResult, message: string): void {
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe(message);
}

/** `kubectl auth whoami` rows, split at wide gaps only: the group list has single spaces. */
function whoamiRows(stdout: string): string[][] {
  return outputLines(stdout).map((line) => line.split(/\s{2,}/));
}

/** `kubectl patch` of a vmim's status subresource, as the migration controller writes it. */
function patchVmimStatusArgs(name: string, status: Record<string, unknown>): string[] {
  return [
    "patch",
    "vmim",
    name,
    "-n",
    "demo",
    "--type",
    "merge",
    "--subresource",
    "status",
    "-p",
    JSON.stringify({ status }),
  ];
}

/** A kubectl for the current cluster, made after it starts and closed before it stops. */
function useKubectl(cluster: () => SimCluster, scope: "test" | "file"): () => Kubectl {
  let kubectl: Kubectl | undefined;
  const open = () => {
    kubectl = new Kubectl(binary ?? "kubectl", cluster());
  };
  const close = async () => {
    await kubectl?.close();
    kubectl = undefined;
  };
  const [setUp, tearDown] = scope === "test" ? [beforeEach, afterEach] : [beforeAll, afterAll];
  setUp(open);
  tearDown(close);
  return () => {
    if (!kubectl) throw new Error("kubectl is not set up");
    return kubectl;
  };
}

function vmi(cluster: SimCluster, name: string): SimObject {
  const found = cluster.store.get(vmiStorage, "demo", name);
  if (!found) throw new Error(`no VMI ${name} in the seed`);
  return found;
}

function vmiIP(cluster: SimCluster, name: string): string {
  const status = vmi(cluster, name).status as { interfaces?: { ipAddress?: string }[] };
  const ip = status.interfaces?.[0]?.ipAddress;
  if (!ip) throw new Error(`VMI ${name} has no IP`);
  return ip;
}

/** The seed's virt-launcher pod of a VM (its name ends in a random suffix). */
function launcherPod(cluster: SimCluster, vm: string): SimObject {
  const pod = cluster.store
    .list("pods", "demo")
    .find((p) => p.metadata.name?.startsWith(`virt-launcher-${vm}-`));
  if (!pod) throw new Error(`no launcher pod for ${vm}`);
  return pod;
}

function migrationManifest(name: string, vmiName: string, extraMetadata = ""): string {
  return `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstanceMigration
metadata:
  name: ${name}
  namespace: demo
${extraMetadata}spec:
  vmiName: ${vmiName}
`;
}

/**
 * A core v1 Event about a VMI, as virt-handler records one, named `<vmi>.<reason in lower case>`;
 * timestamps are the simulated now.
 */
function eventManifest(cluster: SimCluster, vmiName: string, reason: string, message: string) {
  const name = `${vmiName}.${reason.toLowerCase()}`;
  const at = new Date(Math.floor(cluster.time.now() / 1000) * 1000 - 1000).toISOString().replace(".000", "");
  return `apiVersion: v1
kind: Event
metadata:
  name: ${name}
  namespace: demo
involvedObject:
  apiVersion: kubevirt.io/v1
  kind: VirtualMachineInstance
  name: ${vmiName}
  namespace: demo
  uid: ${vmi(cluster, vmiName).metadata.uid}
reason: ${reason}
message: ${JSON.stringify(message)}
type: Normal
source:
  component: virt-handler
  host: ${vmNodes[vmiName]}
firstTimestamp: "${at}"
lastTimestamp: "${at}"
count: 1
`;
}

describeKubectl("kubectl against the simulated cluster: reading", { timeout }, () => {
  const sim = simPerTest(apiServerOnly, "file");
  const kubectl = useKubectl(sim, "file");
  const getInDemo = (kind: string, ...flags: string[]) =>
    kubectl().run(["get", kind, "-n", "demo", ...flags]);
  const canI = (args: readonly string[], options?: KubectlOptions) =>
    kubectl().run(["auth", "can-i", ...args, "-n", "demo"], options);

  it("kubectl get vmi -A lists the five VMIs of demo, Running, with their IP and node", async () => {
    const result = await kubectl().run(["get", "vmi", "-A"]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(vmiHeaderAllNamespaces);
    expect(table.rows.map((row) => row[1])).toEqual(vmNames);
    for (const [namespace, name = "", rowAge, phase, ip, node, ready] of table.rows) {
      expect(namespace).toBe("demo");
      expect(rowAge).toMatch(age);
      expect(phase).toBe("Running");
      expect(ip).toBe(vmiIP(sim(), name));
      expect(node).toBe(vmNodes[name]);
      expect(ready).toBe("True");
    }
  });

  it("kubectl get vmi -l selects by the outdated-launcher label, and by its absence", async () => {
    const withLabel = await kubectl().run(["get", "vmi", "-l", outdatedLabel, "--all-namespaces"]);
    const withoutLabel = await kubectl().run(["get", "vmi", "-l", `!${outdatedLabel}`, "--all-namespaces"]);

    expect(withLabel.code).toBe(0);
    const outdatedTable = parseTable(withLabel.stdout);
    expect(outdatedTable.header).toEqual(vmiHeaderAllNamespaces);
    expect(outdatedTable.rows.map((row) => [row[0], row[1], row[5]])).toEqual([
      ["demo", "cirros-test", "node-3"],
      ["demo", "win-app", "node-2"],
    ]);
    expect(withoutLabel.code).toBe(0);
    expect(parseTable(withoutLabel.stdout).rows.map((row) => row[1])).toEqual(
      vmNames.filter((name) => !outdated.includes(name)),
    );
  });

  it("kubectl get vm,vmi -n demo prints one table per kind, with group-qualified names", async () => {
    const result = await kubectl().run(["get", "vm,vmi", "-n", "demo"]);

    expect(result.code).toBe(0);
    const [vms, vmis, ...rest] = parseTables(result.stdout);
    expect(rest).toEqual([]);
    expect(vms?.header).toEqual(["NAME", "AGE", "STATUS", "READY"]);
    expect(vms?.rows.map((row) => [row[0], row[2], row[3]])).toEqual(
      vmNames.map((name) => [`virtualmachine.kubevirt.io/${name}`, "Running", "True"]),
    );
    expect(vmis?.header).toEqual(["NAME", "AGE", "PHASE", "IP", "NODENAME", "READY"]);
    expect(vmis?.rows.map((row) => [row[0], row[2], row[4]])).toEqual(
      vmNames.map((name) => [`virtualmachineinstance.kubevirt.io/${name}`, "Running", vmNodes[name]]),
    );
  });

  it("kubectl get vmi -o jsonpath prints the node alone", async () => {
    const result = await kubectl().run([
      "get",
      "vmi",
      "fedora-web",
      "-n",
      "demo",
      "-o",
      "jsonpath={.status.nodeName}",
    ]);

    expect(result).toEqual({ stdout: "node-1", stderr: "", code: 0 });
  });

  it("kubectl get vmi of a missing name reports NotFound and exits 1", async () => {
    const result = await kubectl().run(["get", "vmi", "nope", "-n", "demo"]);

    expect(result.stdout).toBe("");
    expectServerError(
      result,
      'Error from server (NotFound): virtualmachineinstances.kubevirt.io "nope" not found',
    );
  });

  it("kubectl get vmi --chunk-size=2 pages through all five in three requests", async () => {
    const result = await kubectl().run(["get", "vmi", "-n", "demo", "--chunk-size=2", "-v=6"]);

    expect(result.code).toBe(0);
    expect(parseTable(result.stdout).rows.map((row) => row[0])).toEqual(vmNames);
    const pages = outputLines(result.stderr).filter((line) =>
      /GET https:\/\/\S+\/apis\/kubevirt\.io\/v1\/namespaces\/demo\/virtualmachineinstances\?\S*limit=2\S* 200 OK/.test(
        line,
      ),
    );
    expect(pages).toHaveLength(3);
    expect(pages[0]).not.toContain("continue=");
    expect(pages[1]).toContain("continue=");
    expect(pages[2]).toContain("continue=");
  });

  it("kubectl get pods -n demo -o wide shows each launcher pod's IP and node", async () => {
    const result = await kubectl().run(["get", "pods", "-n", "demo", "-o", "wide"]);

    expect(result.code).toBe(0);
    const table = parseTable(result.stdout);
    expect(table.header).toEqual([
      "NAME",
      "READY",
      "STATUS",
      "RESTARTS",
      "AGE",
      "IP",
      "NODE",
      "NOMINATED NODE",
      "READINESS GATES",
    ]);
    expect(table.rows.map((row) => [row[0], row[2], row[3], row[5], row[6], row[7]])).toEqual(
      vmNames.map((vm) => [
        launcherPod(sim(), vm).metadata.name,
        "Running",
        "0",
        vmiIP(sim(), vm),
        vmNodes[vm],
        "<none>",
      ]),
    );
    for (const row of table.rows) {
      expect(row[1]).toMatch(/^(\d+)\/\1$/);
      expect(row[4]).toMatch(age);
    }
  });

  it("kubectl get pods --field-selector spec.nodeName selects the pods of one node", async () => {
    const result = await getInDemo("pods", "--field-selector", "spec.nodeName=node-2");

    expect(result.code).toBe(0);
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    expect(table.rows.map((row) => row[0])).toEqual([
      launcherPod(sim(), "rhel-db").metadata.name,
      launcherPod(sim(), "win-app").metadata.name,
    ]);
  });

  it("kubectl get vmi --field-selector on a field KubeVirt's CRD does not select is a BadRequest", async () => {
    const result = await getInDemo("vmi", "--field-selector", "status.nodeName=node-1");

    expect(result.stdout).toBe("");
    expectServerError(
      result,
      'Error from server (BadRequest): Unable to find "kubevirt.io/v1, Resource=virtualmachineinstances" that match label selector "", field selector "status.nodeName=node-1": field label not supported: status.nodeName',
    );
  });

  it("kubectl get nodes lists the three Ready workers", async () => {
    const result = await kubectl().run(["get", "nodes"]);

    expect(result.code).toBe(0);
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    expect(table.rows.map((row) => row.slice(0, 3))).toEqual([
      ["node-1", "Ready", "worker"],
      ["node-2", "Ready", "worker"],
      ["node-3", "Ready", "worker"],
    ]);
    for (const [name = "", , , rowAge, version] of table.rows) {
      expect(rowAge).toMatch(age);
      const node = sim().store.get("nodes", undefined, name) as {
        status?: { nodeInfo?: { kubeletVersion?: string } };
      };
      expect(version).toBe(node.status?.nodeInfo?.kubeletVersion);
      expect(version).toMatch(/^v1\.32\.\d+$/);
    }
  });

  it("kubectl logs -c compute --tail=2 prints the last two lines of virt-launcher's log", async () => {
    const pod = launcherPod(sim(), "fedora-web").metadata.name ?? "";
    const result = await kubectl().run(["logs", "-n", "demo", pod, "-c", "compute", "--tail=2"]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const expected = sim()
      .logs.read("demo", pod, "compute", { tailLines: 2 })
      .map((line) => line.text);
    expect(expected).toHaveLength(2);
    expect(outputLines(result.stdout)).toEqual(expected);
    for (const line of outputLines(result.stdout)) {
      expect(JSON.parse(line)).toMatchObject({
        component: "virt-launcher",
        namespace: "demo",
        name: "fedora-web",
      });
    }
  });

  it("kubectl api-resources --api-group=kubevirt.io shows the short names vm, vmi, vmim and kv", async () => {
    const result = await kubectl().run(["api-resources", "--api-group=kubevirt.io"]);

    expect(result.code).toBe(0);
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
    const byName = new Map(table.rows.map((row) => [row[0], row.slice(1)]));
    expect(byName.get("virtualmachines")).toEqual(["vm,vms", "kubevirt.io/v1", "true", "VirtualMachine"]);
    expect(byName.get("virtualmachineinstances")).toEqual([
      "vmi,vmis",
      "kubevirt.io/v1",
      "true",
      "VirtualMachineInstance",
    ]);
    expect(byName.get("virtualmachineinstancemigrations")).toEqual([
      "vmim,vmims",
      "kubevirt.io/v1",
      "true",
      "VirtualMachineInstanceMigration",
    ]);
    expect(byName.get("kubevirts")).toEqual(["kv,kvs", "kubevirt.io/v1", "true", "KubeVirt"]);
    for (const row of table.rows) expect(row[2]).toBe("kubevirt.io/v1");
  });

  it("kubectl auth can-i: the admin may create migrations and migrate VMs", async () => {
    const create = await canI(["create", "virtualmachineinstancemigrations"]);
    const migrate = await canI(["update", "virtualmachines", "--subresource=migrate"]);

    expect(create).toEqual(yes);
    expect(migrate).toEqual(yes);
  });

  it("kubectl auth can-i: the viewer may list migrations and read pod logs, not create or migrate", async () => {
    const viewer = { context: "sim-viewer" } as const;
    const create = await canI(["create", "vmim"], viewer);
    const migrate = await canI(["update", "virtualmachines", "--subresource=migrate"], viewer);
    const list = await canI(["list", "vmim"], viewer);
    // `pods/log` would ask about a pod named "log"; the subresource needs --subresource.
    const logs = await canI(["get", "pods", "--subresource=log"], viewer);

    expect(create).toEqual(no);
    expect(migrate).toEqual(no);
    expect(list).toEqual(yes);
    expect(logs).toEqual(yes);
  });

  it("kubectl auth whoami names each user and their groups", async () => {
    const admin = await kubectl().run(["auth", "whoami"]);
    const viewer = await kubectl().run(["auth", "whoami"], { context: "sim-viewer" });

    expect(admin.code).toBe(0);
    expect(whoamiRows(admin.stdout)).toEqual([
      ["ATTRIBUTE", "VALUE"],
      ["Username", "sim-admin"],
      ["Groups", "[system:masters system:authenticated]"],
    ]);
    expect(viewer.code).toBe(0);
    expect(whoamiRows(viewer.stdout)).toEqual([
      ["ATTRIBUTE", "VALUE"],
      ["Username", "sim-viewer"],
      ["Groups", "[system:authenticated]"],
    ]);
  });
});

describeKubectl("kubectl against the simulated cluster: writing", { timeout }, () => {
  const sim = simPerTest(apiServerOnly, "test");
  const kubectl = useKubectl(sim, "test");
  /** Creates from a manifest file, as a user would; fails unless kubectl succeeds. */
  const create = (manifest: string) => kubectl().ok(["create", "-f", kubectl().writeFile(manifest)]);

  it("kubectl get vmim: none at first, then the created migration with the phase patched into its status", async () => {
    const none = await kubectl().run(["get", "vmim", "-n", "demo"]);
    expect(none).toEqual(noMigrations);

    const manifest = kubectl().writeFile(migrationManifest("mig-fedora", "fedora-web"));
    const created = await kubectl().run(["create", "-f", manifest]);
    expect(created).toEqual(printed("virtualmachineinstancemigration.kubevirt.io/mig-fedora created\n"));
    const pending = parseTable(await kubectl().ok(["get", "vmim", "-n", "demo"]));
    expect(pending).toEqual({ header: vmimHeader, rows: [["mig-fedora", "", "fedora-web"]] });

    const patched = await kubectl().run(patchVmimStatusArgs("mig-fedora", { phase: "Running" }));
    expect(patched).toEqual(printed("virtualmachineinstancemigration.kubevirt.io/mig-fedora patched\n"));
    const running = await kubectl().run(["get", "vmim", "-n", "demo"]);
    expect(running.code).toBe(0);
    expect(running.stderr).toBe("");
    expect(parseTable(running.stdout)).toEqual({
      header: vmimHeader,
      rows: [["mig-fedora", "Running", "fedora-web"]],
    });
  });

  it("kubectl get vmim -o yaml prints a List whose item carries the server's metadata", async () => {
    await create(migrationManifest("mig-fedora", "fedora-web"));

    const result = await kubectl().run(["get", "vmim", "-n", "demo", "-o", "yaml"]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const list = parse(result.stdout);
    expect(list).toMatchObject({ apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" } });
    expect(list.items).toHaveLength(1);
    const [item] = list.items;
    expect(item).toMatchObject({
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: { name: "mig-fedora", namespace: "demo", generation: 1 },
      spec: { vmiName: "fedora-web" },
    });
    expect(item.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(item.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(item.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const stored = sim().store.get(vmimStorage, "demo", "mig-fedora");
    expect(item.metadata.uid).toBe(stored?.metadata.uid);
    expect(item.metadata.resourceVersion).toBe(stored?.metadata.resourceVersion);
  });

  it("kubectl get events --field-selector reason=Migrating --watch prints Migrating events only", async () => {
    // One Migrating event before the watch: its row shows kubectl has listed and is now watching.
    await create(eventManifest(sim(), "rhel-db", "Migrating", "VirtualMachineInstance is migrating."));
    const watch = kubectl().start([
      "get",
      "events",
      "-n",
      "demo",
      "--field-selector",
      "reason=Migrating",
      "--watch",
    ]);
    await watch.waitForLine((line) => line.includes("virtualmachineinstance/rhel-db"));

    // The other reason first: once the later Migrating event is printed, the earlier one would have been.
    const other = await kubectl().run([
      "create",
      "-f",
      kubectl().writeFile(
        eventManifest(sim(), "fedora-web", "Migrated", "The VirtualMachineInstance migrated."),
      ),
    ]);
    expect(other.stdout).toBe("event/fedora-web.migrated created\n");
    await create(
      eventManifest(sim(), "fedora-web", "Migrating", "VirtualMachineInstance is migrating to node-2."),
    );
    await watch.waitForLine((line) => line.includes("virtualmachineinstance/fedora-web"));
    await watch.stop();

    const [header, ...rows] = watch.lines().map((line) => line.trim().split(/\s{2,}/));
    expect(header).toEqual(["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    expect(rows.map((row) => row.slice(1))).toEqual([
      ["Normal", "Migrating", "virtualmachineinstance/rhel-db", "VirtualMachineInstance is migrating."],
      [
        "Normal",
        "Migrating",
        "virtualmachineinstance/fedora-web",
        "VirtualMachineInstance is migrating to node-2.",
      ],
    ]);
    for (const row of rows) expect(row[0]).toMatch(age);
    expect(watch.stdout).not.toContain("Migrated");
    expect(watch.stderr).toBe("");
  });

  it("kubectl get vmim -w prints each phase as the status is patched, in order", async () => {
    await create(migrationManifest("mig-fedora", "fedora-web"));
    const watch = kubectl().start(["get", "vmim", "-n", "demo", "-w"]);
    // The listed row: from here kubectl watches from the list's resourceVersion, so no change is missed.
    await watch.waitForLine((line) => fields(line)[0] === "mig-fedora");

    for (const phase of successPhases) await kubectl().ok(patchVmimStatusArgs("mig-fedora", { phase }));
    await watch.waitForLine((line) => fields(line)[1] === "Succeeded");
    await watch.stop();

    const [header, ...rows] = watch.lines().map(fields);
    expect(header).toEqual(vmimHeader);
    expect(rows).toEqual([
      ["mig-fedora", "fedora-web"],
      ...successPhases.map((phase) => ["mig-fedora", phase, "fedora-web"]),
    ]);
    expect(watch.stderr).toBe("");
  });

  it("kubectl delete vmim removes it at once; with a finalizer it waits until the finalizer goes", async () => {
    await create(migrationManifest("mig-plain", "fedora-web"));
    const deleted = await kubectl().run(["delete", "vmim", "mig-plain", "-n", "demo"]);
    expect(deleted).toEqual(printed('virtualmachineinstancemigration.kubevirt.io "mig-plain" deleted\n'));
    const gone = await kubectl().run(["get", "vmim", "mig-plain", "-n", "demo"]);
    expectServerError(
      gone,
      'Error from server (NotFound): virtualmachineinstancemigrations.kubevirt.io "mig-plain" not found',
    );

    const finalizer = "kubevirt.io/migrationJobFinalizer";
    await create(migrationManifest("mig-kept", "rhel-db", `  finalizers:\n  - ${finalizer}\n`));
    const marked = await kubectl().run(["delete", "vmim", "mig-kept", "-n", "demo", "--wait=false"]);
    expect(marked).toEqual(printed('virtualmachineinstancemigration.kubevirt.io "mig-kept" deleted\n'));
    const kept = parse(await kubectl().ok(["get", "vmim", "mig-kept", "-n", "demo", "-o", "yaml"]));
    expect(kept.metadata.finalizers).toEqual([finalizer]);
    expect(kept.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(kept.metadata.deletionGracePeriodSeconds).toBe(0);
    const listed = parseTable(await kubectl().ok(["get", "vmim", "-n", "demo"]));
    expect(listed.rows).toEqual([["mig-kept", "", "rhel-db"]]);

    const unfinalized = await kubectl().run([
      "patch",
      "vmim",
      "mig-kept",
      "-n",
      "demo",
      "--type",
      "json",
      "-p",
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    expect(unfinalized).toEqual(printed("virtualmachineinstancemigration.kubevirt.io/mig-kept patched\n"));
    const after = await kubectl().run(["get", "vmim", "-n", "demo"]);
    expect(after).toEqual(noMigrations);
    expect(sim().store.get(vmimStorage, "demo", "mig-kept")).toBeUndefined();
  });

  it("the viewer's kubectl delete and create of a vmim are Forbidden, and change nothing", async () => {
    const manifest = kubectl().writeFile(migrationManifest("mig-fedora", "fedora-web"), "mig-fedora.yaml");
    await kubectl().ok(["create", "-f", manifest]);
    const viewer = { context: "sim-viewer" } as const;

    const deleted = await kubectl().run(["delete", "vmim", "mig-fedora", "-n", "demo"], viewer);
    expect(deleted.stdout).toBe("");
    expectServerError(
      deleted,
      'Error from server (Forbidden): virtualmachineinstancemigrations.kubevirt.io "mig-fedora" is forbidden: User "sim-viewer" cannot delete resource "virtualmachineinstancemigrations" in API group "kubevirt.io" in the namespace "demo"',
    );

    // A relative path (kubectl runs in its temp dir), as kubectl quotes it in the error.
    kubectl().writeFile(migrationManifest("mig-rhel", "rhel-db"), "mig-rhel.yaml");
    const created = await kubectl().run(["create", "-f", "mig-rhel.yaml"], viewer);
    expectServerError(
      created,
      'Error from server (Forbidden): error when creating "mig-rhel.yaml": virtualmachineinstancemigrations.kubevirt.io is forbidden: User "sim-viewer" cannot create resource "virtualmachineinstancemigrations" in API group "kubevirt.io" in the namespace "demo"',
    );

    const table = parseTable(await kubectl().ok(["get", "vmim", "-n", "demo"], viewer));
    expect(table.rows).toEqual([["mig-fedora", "", "fedora-web"]]);
  });
});
