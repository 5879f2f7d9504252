// -o name and -o jsonpath=TEMPLATE through the built CLI, beside the real kubectl on the same
// simulated cluster: the same template on the fields both carry prints the same text, -o name
// prints kubectl's kind/name lines, and every command with data output evaluates its template on
// the very document -o json prints (`{@}` is that document).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findKubectl, Kubectl } from "../helpers/kubectl.js";
import { type SimCli, simCli } from "./sim-cli.js";

const kubectlBinary = findKubectl();
if (!kubectlBinary)
  console.warn("kubectl not found on PATH or in /usr/bin: the kubectl comparisons are skipped");

let sim: SimCli;
let upgrade: SimCli;
beforeAll(async () => {
  [sim, upgrade] = await Promise.all([
    simCli({ manualTime: true }),
    simCli({ scenario: "upgrade", manualTime: true }),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([sim?.close(), upgrade?.close()]);
});

const sorted = (text: string) =>
  text
    .split("\n")
    .filter((line) => line !== "")
    .sort();

describe.skipIf(!kubectlBinary)("beside kubectl on the same cluster", () => {
  let kubectl: Kubectl;
  beforeAll(() => {
    kubectl = new Kubectl(kubectlBinary as string, upgrade.cluster);
  });
  afterAll(async () => {
    await kubectl?.close();
  });
  const outdatedVmis = ["get", "vmi", "-A", "-l", "kubevirt.io/outdatedLauncherImage"];

  it("outdated -A -o jsonpath: namespace/name of each outdated VMI, as kubectl prints them", async () => {
    const ours = await upgrade.run([
      "outdated",
      "-A",
      "-o",
      'jsonpath={range .items[*]}{.namespace}/{.vmi}{"\\n"}{end}',
    ]);
    const theirs = await kubectl.ok([
      ...outdatedVmis,
      "-o",
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
    ]);
    expect(ours.stderr).toBe("");
    expect(ours.code).toBe(0);
    expect(sorted(ours.stdout).length).toBeGreaterThan(2);
    expect(sorted(ours.stdout)).toEqual(sorted(theirs));
  });

  it("the node of each, and a filter, agree too", async () => {
    const ours = await upgrade.run([
      "outdated",
      "-A",
      "-o",
      "jsonpath={range .items[*]}{.vmi} {.node}{'\\n'}{end}",
    ]);
    const theirs = await kubectl.ok([
      ...outdatedVmis,
      "-o",
      "jsonpath={range .items[*]}{.metadata.name} {.status.nodeName}{'\\n'}{end}",
    ]);
    expect(sorted(ours.stdout)).toEqual(sorted(theirs));
    const node = sorted(theirs)[0]?.split(" ")[1] ?? "";
    const onNode = await upgrade.run([
      "outdated",
      "-A",
      "-o",
      `jsonpath={.items[?(@.node == "${node}")].vmi}`,
    ]);
    const kubectlOnNode = await kubectl.ok([
      ...outdatedVmis,
      "-o",
      `jsonpath={.items[?(@.status.nodeName == "${node}")].metadata.name}`,
    ]);
    expect(onNode.stdout.split(" ").sort()).toEqual(kubectlOnNode.split(" ").sort());
  });

  it("outdated -A -o name: the VMIs, as kubectl get vmi -o name names them", async () => {
    const ours = await upgrade.run(["outdated", "-A", "-o", "name"]);
    expect(ours.code).toBe(0);
    expect(sorted(ours.stdout)).toEqual(sorted(await kubectl.ok([...outdatedVmis, "-o", "name"])));
    expect(sorted(ours.stdout)[0]).toMatch(/^virtualmachineinstance\.kubevirt\.io\/[a-z0-9-]+$/);
  });

  it("every spelling of -o jsonpath prints the same", async () => {
    const template = "{.items[*].vmi}";
    const expected = (await upgrade.run(["outdated", "-A", "-o", `jsonpath=${template}`])).stdout;
    expect(expected).not.toBe("");
    for (const spelling of [
      [`-o=jsonpath=${template}`],
      [`-ojsonpath=${template}`],
      [`--output=jsonpath=${template}`],
      ["--output", `jsonpath=${template}`],
    ]) {
      const result = await upgrade.run(["outdated", "-A", ...spelling]);
      expect({ spelling, stdout: result.stdout, code: result.code }).toEqual({
        spelling,
        stdout: expected,
        code: 0,
      });
    }
  });

  it("jsonpath-as-json: the results as a JSON array, as kubectl's", async () => {
    const ours = await upgrade.run(["outdated", "-A", "-o", "jsonpath-as-json={.items[*].namespace}"]);
    const theirs = await kubectl.ok([
      ...outdatedVmis,
      "-o",
      "jsonpath-as-json={.items[*].metadata.namespace}",
    ]);
    expect((JSON.parse(ours.stdout) as string[]).sort()).toEqual((JSON.parse(theirs) as string[]).sort());
  });

  it("restart, evacuate: -o name names the VM and the node as kubectl does", async () => {
    const vm = await upgrade.run(["outdated", "-A", "-o", "jsonpath={.items[0].namespace} {.items[0].vmi}"]);
    const [namespace = "", name = ""] = vm.stdout.split(" ");
    const check = await upgrade.run(["restart", name, "-n", namespace, "--dry-run", "--yes", "-o", "name"]);
    expect(check.stdout).toBe(await kubectl.ok(["get", "vm", name, "-n", namespace, "-o", "name"]));
    expect(check.code).toBe(0);
    const nodes = await kubectl.ok(["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]);
    const evacuate = await upgrade.run(["evacuate", nodes, "--dry-run", "--force", "-o", "name"]);
    expect(evacuate.stdout).toBe(await kubectl.ok(["get", "node", nodes, "-o", "name"]));
  });
});

describe("-o name on a migration: migrate, watch, history and cancel name it as kubectl does", () => {
  it("the migration migrate starts and follows, then watch's records and history's rows", async () => {
    const live = await simCli({ speed: 50 });
    try {
      const migrate = await live.run(["migrate", "fedora-web", "-n", "demo", "-o", "name"], 60_000);
      expect(migrate.code).toBe(0);
      const [migration] = live.migrations("demo", "fedora-web");
      const name = `virtualmachineinstancemigration.kubevirt.io/${migration.metadata.name}`;
      expect(migrate.stdout).toBe(`${name}\n`);
      if (kubectlBinary) {
        const kubectl = new Kubectl(kubectlBinary, live.cluster);
        try {
          expect(migrate.stdout).toBe(await kubectl.ok(["get", "vmim", "-n", "demo", "-o", "name"]));
        } finally {
          await kubectl.close();
        }
      }
      // watch: one line per record (each change of the migration), each naming it.
      const watch = await live.run(["watch", "-n", "demo", "--exit-on-done", "-o", "name"]);
      expect(watch.code).toBe(0);
      expect(new Set(watch.stdout.trimEnd().split("\n"))).toEqual(new Set([name]));
      const history = await live.run(["history", "fedora-web", "-n", "demo", "-o", "name"]);
      expect(history.stdout).toBe(`${name}\n`);
      // Nothing left to cancel: no migration named, exit 0.
      const cancel = await live.run(["migrate-cancel", "fedora-web", "-n", "demo", "-o", "name"]);
      expect(cancel).toMatchObject({ stdout: "", code: 0 });
    } finally {
      await live.close();
    }
  }, 90_000);
});

describe("-o jsonpath is evaluated on the document -o json prints", () => {
  /** Fields that differ between two runs by nature (when the run read the cluster, and from when). */
  const stable = (data: unknown) =>
    JSON.parse(JSON.stringify(data), (key, value) =>
      key === "takenAt" || key === "since" ? undefined : value,
    );

  it.each([
    ["version", () => sim, ["version"]],
    ["migrate --dry-run", () => sim, ["migrate", "fedora-web", "-n", "demo", "--dry-run"]],
    ["cancel (nothing to cancel)", () => sim, ["cancel", "fedora-web", "-n", "demo"]],
    ["restart --dry-run", () => sim, ["restart", "cirros-test", "-n", "demo", "--dry-run", "--yes"]],
    ["outdated -A", () => upgrade, ["outdated", "-A"]],
    ["history", () => sim, ["history", "fedora-web", "-n", "demo"]],
    ["evacuate --dry-run", () => sim, ["evacuate", "node-3", "--dry-run", "--force"]],
    ["diagnose", () => sim, ["diagnose", "fedora-web", "-n", "demo"]],
    ["help exit-codes", () => sim, ["help", "exit-codes"]],
  ] as const)("%s: {@} is the -o json document", async (_name, cluster, args) => {
    const json = await cluster().run([...args, "-o", "json"]);
    const path = await cluster().run([...args, "-o", "jsonpath={@}"]);
    expect(path.code).toBe(json.code);
    expect(path.stdout.endsWith("\n")).toBe(false);
    expect(stable(JSON.parse(path.stdout))).toEqual(stable(JSON.parse(json.stdout)));
  });
});

describe("--allow-missing-template-keys, as kubectl's", () => {
  it("a missing key prints nothing by default; =false makes it an error, exit 2", async () => {
    const lenient = await sim.run(["version", "-o", "jsonpath=[{.nope}]"]);
    expect(lenient).toMatchObject({ stdout: "[]", code: 0 });
    const strict = await sim.run([
      "version",
      "-o",
      "jsonpath={.nope}",
      "--allow-missing-template-keys=false",
    ]);
    expect(strict.stderr.split("\n")[0]).toBe('error: error executing jsonpath "{.nope}": nope is not found');
    expect(strict).toMatchObject({ stdout: "", code: 2 });
    const present = await sim.run([
      "version",
      "-o",
      "jsonpath={.kvmig.version}",
      "--allow-missing-template-keys=false",
    ]);
    expect(present.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("-o name and -o jsonpath errors: one line, a hint, exit 2", () => {
  it.each([
    [["version", "-o", "name"], "error: -o name is only for commands whose output names Kubernetes objects"],
    [
      ["diagnose", "fedora-web", "-n", "demo", "-o", "name"],
      "error: -o name is only for commands whose output names Kubernetes objects",
    ],
    [["version", "-o", "jsonpath={.kvmig"], "error: error parsing jsonpath {.kvmig, unclosed action"],
    [["version", "-o", "jsonpath="], "error: -o jsonpath needs a template: -o jsonpath=TEMPLATE"],
    [
      ["version", "-o", "jsonpath={.kvmig[0]}"],
      'error: error executing jsonpath "{.kvmig[0]}": map[string]interface {} is not array or slice',
    ],
    [["version", "-o", "toml"], 'error: unable to match a printer suitable for the output format "toml"'],
  ])("%j", async (args, message) => {
    const result = await sim.run(args);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(message);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines).toHaveLength(2);
    expect(result.stdout).toBe("");
    expect(result.code).toBe(2);
  });
});
