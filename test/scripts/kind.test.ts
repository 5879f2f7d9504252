// scripts/kind/: the real test cluster (kind + KubeVirt + Multus bridges) for the portable suite.
// No container engine here, so: --dry-run prints the complete sequence without needing docker,
// kind or kubectl; a real run without them stops at once, naming each; a real run against stub
// tools runs exactly what --dry-run printed and, run again, skips what exists; the simulated twin
// (scenario kind) matches what the scripts deploy; and every shell script passes ShellCheck.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { type RunResult, repoRoot, runProcess } from "../e2e/built-cli.js";
import { tempDir } from "../helpers/kubeconfig.js";

const up = join(repoRoot, "scripts/kind/up.sh");
const down = join(repoRoot, "scripts/kind/down.sh");
const bash = "/bin/bash";
const kindDir = join(repoRoot, "scripts/kind");

/** The basic tools the scripts use, in a directory of their own: a PATH without docker, kind, kubectl. */
const basicTools = [
  "awk",
  "basename",
  "cat",
  "cut",
  "dirname",
  "grep",
  "mkdir",
  "rm",
  "sed",
  "sha256sum",
  "sort",
  "touch",
  "tr",
  "uname",
  "curl",
  "tar",
];

function toolsDir(): string {
  const dir = join(tempDir("kvmig-kind-tools-"), "bin");
  mkdirSync(dir);
  for (const tool of basicTools) {
    const found = ["/usr/bin", "/bin", "/usr/local/bin"].map((d) => join(d, tool)).find((p) => existsSync(p));
    if (found) symlinkSync(found, join(dir, tool));
  }
  return dir;
}

function runScript(script: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return runProcess([script, ...args], { command: bash, env, timeoutMs: 20_000 });
}

/** The versions as versions.sh sets them. */
function versions(): Record<string, string> {
  const out = execFileSync(
    bash,
    [
      "-c",
      `. scripts/kind/versions.sh; for v in ${"$"}{!KIND_*} ${"$"}{!KUBEVIRT_*} ${"$"}{!MULTUS_*} ${"$"}{!CNI_*} CONTAINERDISK_IMAGE; do printf '%s=%s\\n' "$v" "${"$"}{!v}"; done`,
    ],
    { cwd: repoRoot, encoding: "utf8" },
  );
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** The command lines of a --dry-run listing (no comments, no blank lines). */
function commands(listing: string): string[] {
  return listing.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

describe("scripts/kind/up.sh --dry-run", () => {
  const v = versions();
  const home = "/home/tester";
  const kc = `kubectl --kubeconfig ${home}/.kube/kind-kvmig`;
  const work = `${home}/.cache/kvmig-kind`;
  const cniTgz = `cni-plugins-linux-${process.arch === "arm64" ? "arm64" : "amd64"}-${v.CNI_PLUGINS_VERSION}.tgz`;

  it("prints the complete sequence, in order, without docker, kind or kubectl installed", async () => {
    const result = await runScript(up, ["--dry-run"], { PATH: toolsDir(), HOME: home });
    expect(result.code).toBe(0);
    // The missing tools are named, on stderr only: stdout is the listing.
    expect(result.stderr.split("\n").filter((l) => l.startsWith("warning: "))).toEqual([
      expect.stringMatching(/^warning: docker is not installed: kind runs each node as a Docker container/),
      `warning: kind is not installed: install kind ${v.KIND_VERSION} (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)`,
      "warning: kubectl is not installed: install kubectl (https://kubernetes.io/docs/tasks/tools/)",
      "warning: --dry-run only prints the commands; a real run needs the missing tools above",
    ]);
    const nodes = ["kvmig-control-plane", "kvmig-worker", "kvmig-worker2"];
    expect(commands(result.stdout)).toEqual([
      `mkdir -p ${work}/cni ${home}/.kube`,
      `kind create cluster --name kvmig --image ${v.KIND_NODE_IMAGE} --config ${kindDir}/kind-config.yaml --kubeconfig ${home}/.kube/kind-kvmig --wait 5m`,
      `${kc} wait node --all --for condition=Ready --timeout=5m`,
      `curl -fsSL -o ${work}/${cniTgz} https://github.com/containernetworking/plugins/releases/download/${v.CNI_PLUGINS_VERSION}/${cniTgz}`,
      `curl -fsSL -o ${work}/${cniTgz}.sha256 https://github.com/containernetworking/plugins/releases/download/${v.CNI_PLUGINS_VERSION}/${cniTgz}.sha256`,
      `(cd ${work} && sha256sum --check --strict ${cniTgz}.sha256)`,
      `tar -xzf ${work}/${cniTgz} -C ${work}/cni`,
      ...nodes.map((node) => `docker cp ${work}/cni/bridge ${node}:/opt/cni/bin/bridge`),
      ...nodes.flatMap((node) =>
        ["vlan-12", "vlan-13"].flatMap((bridge) => [
          `docker exec ${node} ip link add ${bridge} type bridge`,
          `docker exec ${node} ip link set ${bridge} up`,
        ]),
      ),
      `curl -fsSL -o ${work}/multus-daemonset.yml https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/${v.MULTUS_VERSION}/deployments/multus-daemonset.yml`,
      `sed -i -E 's#ghcr\\.io/k8snetworkplumbingwg/multus-cni:[A-Za-z0-9._-]+#ghcr.io/k8snetworkplumbingwg/multus-cni:${v.MULTUS_VERSION}#g' ${work}/multus-daemonset.yml`,
      `${kc} apply -f ${work}/multus-daemonset.yml`,
      `${kc} -n kube-system rollout status daemonset/kube-multus-ds --timeout=5m`,
      `${kc} apply --server-side --force-conflicts -f https://github.com/kubevirt/kubevirt/releases/download/${v.KUBEVIRT_VERSION}/kubevirt-operator.yaml`,
      `${kc} -n kubevirt wait deployment/virt-operator --for condition=Available --timeout=5m`,
      `${kc} apply --server-side --force-conflicts -f https://github.com/kubevirt/kubevirt/releases/download/${v.KUBEVIRT_VERSION}/kubevirt-cr.yaml`,
      `${kc} -n kubevirt patch kubevirt kubevirt --type merge -p '{"spec":{"configuration":{"developerConfiguration":{"useEmulation":true}}}}'`,
      `${kc} -n kubevirt wait kv/kubevirt --for condition=Available --timeout=15m`,
      `${kc} apply -f ${kindDir}/nads.yaml`,
      `sed -e 's#@CONTAINERDISK_IMAGE@#quay.io/kubevirt/cirros-container-disk-demo:${v.KUBEVIRT_VERSION}#g' ${kindDir}/vms.yaml.in > ${work}/vms.yaml`,
      `${kc} apply -f ${work}/vms.yaml`,
      `${kc} -n kvmig-e2e wait vm/vm-masq vm/vm-bridge --for condition=Ready --timeout=10m`,
      `${kc} -n kvmig-e2e get vmi -o wide`,
    ]);
    // Each step is introduced, and the idempotency rules are spelled out.
    expect(result.stdout).toContain(
      "# when `kind get clusters` lists kvmig already, instead: kind export kubeconfig --name kvmig --kubeconfig /home/tester/.kube/kind-kvmig",
    );
    expect(result.stdout).toContain("# each `ip link add` is skipped when the node has that bridge already");
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe(
      "# the cluster is ready: KUBECONFIG=/home/tester/.kube/kind-kvmig npm run test:e2e:cluster",
    );
  });

  it("the pinned versions: one place (versions.sh), a kind node image by digest, KubeVirt's own cirros tag", () => {
    expect(v.KUBEVIRT_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(v.KIND_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(v.KIND_NODE_IMAGE).toMatch(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(v.MULTUS_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(v.CNI_PLUGINS_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(v.CONTAINERDISK_IMAGE).toBe(`quay.io/kubevirt/cirros-container-disk-demo:${v.KUBEVIRT_VERSION}`);
    // No version is written anywhere else in the scripts or manifests.
    for (const file of ["up.sh", "down.sh", "lib.sh", "kind-config.yaml", "nads.yaml", "vms.yaml.in"]) {
      const text = readFileSync(join(repoRoot, "scripts/kind", file), "utf8");
      expect({ file, versions: text.match(/\bv\d+\.\d+\.\d+\b/g) ?? [] }).toEqual({ file, versions: [] });
    }
  });

  it("--help prints the usage; an unknown argument is a usage error (exit 2)", async () => {
    const help = await runScript(up, ["--help"], { PATH: toolsDir(), HOME: home });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: scripts\/kind\/up\.sh \[--dry-run\]\n/);
    const bad = await runScript(up, ["--yes"], { PATH: toolsDir(), HOME: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown argument --yes\nusage: scripts\/kind\/up\.sh/);
  });
});

describe("scripts/kind/up.sh without its prerequisites", () => {
  it("stops before changing anything, naming docker, kind and kubectl with what to do about each", async () => {
    const home = tempDir();
    const result = await runScript(up, [], { PATH: toolsDir(), HOME: home });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      "error: docker is not installed: kind runs each node as a Docker container: install Docker Engine (https://docs.docker.com/engine/install/) and check that `docker info` works",
      expect.stringMatching(
        /^error: kind is not installed: install kind v\d+\.\d+\.\d+ \(https:\/\/kind\.sigs\.k8s\.io\//,
      ),
      "error: kubectl is not installed: install kubectl (https://kubernetes.io/docs/tasks/tools/)",
      "error: 3 prerequisite(s) missing (see above); nothing was changed",
    ]);
    expect(existsSync(join(home, ".cache"))).toBe(false);
  });
});

/**
 * Stand-ins for docker, kind, kubectl, curl and tar that log each call and keep just enough state
 * (the cluster, the nodes' bridges) for the idempotency checks; the other tools are real.
 */
function stubTools(): { path: string; log: string; state: string } {
  const bin = toolsDir();
  const base = join(bin, "..");
  const log = join(base, "calls.log");
  const state = join(base, "state");
  mkdirSync(state);
  const stub = (name: string, body: string) => {
    const file = join(bin, name);
    try {
      execFileSync("rm", ["-f", file]);
    } catch {}
    writeFileSync(file, `#!/bin/bash\necho "${name} $*" >> "${log}"\nstate="${state}"\n${body}\n`);
    chmodSync(file, 0o755);
  };
  stub(
    "kind",
    `case "$1 $2" in
  "version "*) echo "kind v0.33.0 go1.24.0 linux/amd64" ;;
  "get clusters") [ -f "$state/cluster" ] && echo kvmig; true ;;
  "create cluster") touch "$state/cluster" ;;
esac`,
  );
  stub(
    "docker",
    `if [ "$1 $3 $4 $5" = "exec ip link show" ]; then [ -f "$state/$2-$6" ]; exit; fi
if [ "$1 $3 $4 $5" = "exec ip link add" ]; then touch "$state/$2-$6"; fi
true`,
  );
  stub("kubectl", "true");
  stub(
    "curl",
    `out="$3"; url="$4"
case "$url" in
  *.sha256) sum=$(sha256sum "\${out%.sha256}" | cut -d' ' -f1); echo "$sum  $(basename "\${out%.sha256}")" > "$out" ;;
  *) echo "image: ghcr.io/k8snetworkplumbingwg/multus-cni:snapshot" > "$out" ;;
esac`,
  );
  stub("tar", `touch "$4/bridge"`);
  return { path: bin, log, state };
}

describe("scripts/kind/up.sh with stub tools (a real run, minus the containers)", () => {
  it("runs exactly the commands --dry-run lists; run again, it reuses the cluster, bridges and download", async () => {
    const home = tempDir();
    const stubs = stubTools();
    const env = { PATH: stubs.path, HOME: home };
    const listing = await runScript(up, ["--dry-run"], env);
    const first = await runScript(up, [], env);
    expect(first.stderr).not.toContain("error:");
    expect(first.code).toBe(0);
    const ran = first.stderr
      .split("\n")
      .filter((l) => l.startsWith("+ "))
      .map((l) => l.slice(2));
    expect(ran).toEqual(commands(listing.stdout));
    // The Multus image was pinned in the downloaded manifest; the VM manifest was rendered.
    const work = join(home, ".cache/kvmig-kind");
    expect(readFileSync(join(work, "multus-daemonset.yml"), "utf8")).toBe(
      `image: ghcr.io/k8snetworkplumbingwg/multus-cni:${versions().MULTUS_VERSION}\n`,
    );
    const vms = readFileSync(join(work, "vms.yaml"), "utf8");
    expect(vms).not.toContain("@");
    expect(vms).toContain(`image: "${versions().CONTAINERDISK_IMAGE}"`);

    writeFileSync(stubs.log, "");
    const second = await runScript(up, [], env);
    expect(second.code).toBe(0);
    const calls = readFileSync(stubs.log, "utf8").trim().split("\n");
    expect(calls.filter((c) => c.startsWith("kind create"))).toEqual([]);
    expect(calls).toContain(`kind export kubeconfig --name kvmig --kubeconfig ${home}/.kube/kind-kvmig`);
    expect(calls.filter((c) => / ip link add /.test(c))).toEqual([]);
    expect(calls.filter((c) => / ip link set /.test(c))).toHaveLength(6);
    expect(calls.filter((c) => c.startsWith("curl") && c.includes("cni-plugins"))).toEqual([]);
    expect(second.stderr).toContain("kind cluster kvmig exists; reusing it");
  });
});

describe("scripts/kind/down.sh", () => {
  it("--dry-run prints the deletion; for real, it deletes the cluster and its kubeconfig", async () => {
    const dry = await runScript(down, ["--dry-run"], { PATH: toolsDir(), HOME: "/home/tester" });
    expect(dry.code).toBe(0);
    expect(commands(dry.stdout)).toEqual([
      "kind delete cluster --name kvmig --kubeconfig /home/tester/.kube/kind-kvmig",
      "rm -f /home/tester/.kube/kind-kvmig",
    ]);
    const stubs = stubTools();
    const home = tempDir();
    const real = await runScript(down, [], { PATH: stubs.path, HOME: home });
    expect(real.code).toBe(0);
    expect(readFileSync(stubs.log, "utf8")).toBe(
      `docker info\nkind delete cluster --name kvmig --kubeconfig ${home}/.kube/kind-kvmig\n`,
    );
  });

  it("without docker and kind: exit 1, naming both", async () => {
    const result = await runScript(down, [], { PATH: toolsDir(), HOME: tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: docker is not installed");
    expect(result.stderr).toContain("error: kind is not installed");
  });
});

describe("the simulated twin: src/sim/scenarios/kind.yaml deploys what the scripts deploy", () => {
  // biome-ignore lint/suspicious/noExplicitAny: YAML documents.
  type Any = any;
  const scenario = parse(readFileSync(join(repoRoot, "src/sim/scenarios/kind.yaml"), "utf8")) as Any;
  const nads = parseAllDocuments(readFileSync(join(repoRoot, "scripts/kind/nads.yaml"), "utf8")).map(
    (d) => d.toJS() as Any,
  );
  const vms = parseAllDocuments(readFileSync(join(repoRoot, "scripts/kind/vms.yaml.in"), "utf8")).map(
    (d) => d.toJS() as Any,
  );
  const v = versions();

  it("the KubeVirt version, the node names and roles, the namespace", () => {
    expect(scenario.kubevirt.version).toBe(v.KUBEVIRT_VERSION);
    expect(scenario.nodes.map((n: Any) => [n.name, n.role, n.schedulable ?? true])).toEqual([
      ["kvmig-control-plane", "control-plane", false],
      ["kvmig-worker", "worker", true],
      ["kvmig-worker2", "worker", true],
    ]);
    const config = parse(readFileSync(join(repoRoot, "scripts/kind/kind-config.yaml"), "utf8")) as Any;
    expect(config.nodes.map((n: Any) => n.role)).toEqual(["control-plane", "worker", "worker"]);
    expect(nads[0]).toEqual({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kvmig-e2e" } });
    expect(scenario.namespaces.map((n: Any) => n.name)).toContain("kvmig-e2e");
  });

  it("the NetworkAttachmentDefinitions, CNI config for CNI config", () => {
    expect(
      scenario.networkAttachmentDefinitions.map((n: Any) => [n.namespace, n.name, JSON.parse(n.config)]),
    ).toEqual(nads.slice(1).map((n) => [n.metadata.namespace, n.metadata.name, JSON.parse(n.spec.config)]));
  });

  it("the VMs: names, memory, networks and bindings, disk image", () => {
    const fromScripts = vms.map((vm) => {
      const spec = vm.spec.template.spec;
      return {
        name: vm.metadata.name,
        namespace: vm.metadata.namespace,
        memory: spec.domain.memory.guest,
        evictionStrategy: spec.evictionStrategy,
        networks: spec.networks.map((n: Any) => {
          const iface = spec.domain.devices.interfaces.find((i: Any) => i.name === n.name);
          return {
            name: n.name,
            binding: Object.keys(iface).find((k) => k !== "name"),
            multus: n.multus?.networkName,
          };
        }),
        image: spec.volumes[0].containerDisk.image.replace("@CONTAINERDISK_IMAGE@", v.CONTAINERDISK_IMAGE),
      };
    });
    const fromScenario = scenario.vms.map((vm: Any) => ({
      name: vm.name,
      namespace: vm.namespace,
      memory: vm.memory,
      evictionStrategy: vm.evictionStrategy,
      networks: vm.networks.map((n: Any) => ({ name: n.name, binding: n.binding, multus: n.multus })),
      image: vm.volumes[0].image,
    }));
    expect(fromScenario).toEqual(fromScripts);
  });
});

describe("ShellCheck", () => {
  const list = execFileSync(bash, [join(repoRoot, "scripts/shellcheck.sh"), "--list"], { encoding: "utf8" })
    .trim()
    .split("\n");

  it("covers every shell script: the kind scripts, the node wrappers, CI's run script", () => {
    expect(list).toEqual(
      expect.arrayContaining([
        ".ci/run",
        "scripts/ensure-node.sh",
        "scripts/kind/down.sh",
        "scripts/kind/lib.sh",
        "scripts/kind/up.sh",
        "scripts/kind/versions.sh",
        "scripts/node.sh",
        "scripts/shellcheck.sh",
      ]),
    );
  });

  it("finds nothing in any of them (as CI runs it)", async () => {
    // Fails, never skips, without shellcheck: CI installs it before the tests.
    const found = ["/usr/bin", "/usr/local/bin", "/bin"].some((d) => existsSync(join(d, "shellcheck")));
    if (!found)
      throw new Error(
        "shellcheck is not installed: bash scripts/test-tools.sh shellcheck installs it (CI runs it before the tests, so this test is not skipped)",
      );
    const result = await runProcess([join(repoRoot, "scripts/shellcheck.sh")], {
      command: bash,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: tempDir() },
      timeoutMs: 60_000,
    });
    expect(result.stdout + result.stderr).toMatch(/shellcheck: no findings\n$/);
    expect(result.code).toBe(0);
  }, 60_000);
});
