// Cluster commands an operator feels, next to what kubectl does for the same need, on the default
// scenario (issue 26): `kvmig diagnose` of a healthy VM next to kubectl reading the objects it
// reads most of, Tab on VM names next to kubectl's own completion of VMI names, and the
// server-side dry run of a migration (pre-flight included) next to kubectl creating a VMIM with
// --dry-run=server. `kvmig version` is the version group's. Each as the npm build runs (node
// dist/kvmig.js) and as the single executable (bench/lib/sea.mjs).
import { comparePair, contains } from "../lib/pair.mjs";
import { pairTable, runsText, target } from "../lib/report.mjs";
import { singleExecutable } from "../lib/sea.mjs";
import { startSim } from "../lib/sim.mjs";

export const id = "cluster";
export const title = "Cluster commands next to kubectl";

/** Relative to the repository, the children's working directory: the command reads the same everywhere. */
const manifest = "bench/fixtures/vmim-fedora-web.yaml";

export async function run(ctx) {
  const runs = ctx.quick ? 1 : ctx.runs * 2;
  const executable = await singleExecutable(ctx);
  const sim = await startSim(ctx, ["--scenario", "default"], "cluster");
  try {
    // The npm build's pair, then the single executable's with the same commands and checks.
    const pairs = async (spec) => {
      const both = [await comparePair(ctx, { kubeconfig: sim.kubeconfig, runs, ...spec })];
      if (executable) {
        both.push(
          await comparePair(ctx, {
            kubeconfig: sim.kubeconfig,
            runs,
            ...spec,
            id: `${spec.id}-sea`,
            label: spec.label ? `single executable, ${spec.label}` : "single executable",
            kvmig: { ...spec.kvmig, file: executable, name: "kubectl-kvmig" },
          }),
        );
      }
      return both;
    };
    const diagnose = await pairs({
      id: "diagnose-healthy",
      kvmig: {
        args: ["diagnose", "fedora-web", "-n", "demo"],
        check: contains("demo/fedora-web: no problems found"),
      },
      kubectl: {
        args: ["get", "vmim,vmi,pods,events", "-n", "demo", "-o", "yaml"],
        check: contains("kind: VirtualMachineInstance\n"),
      },
    });
    const complete = await pairs({
      id: "complete-vm",
      label: "Tab on VM names",
      kvmig: { args: ["__complete", "migrate", "-n", "demo", ""], check: contains("fedora-web\n") },
      kubectl: { args: ["__complete", "get", "vmi", "-n", "demo", ""], check: contains("fedora-web\n") },
    });
    const dryRun = await pairs({
      id: "migrate-dry-run",
      kvmig: {
        args: ["migrate", "fedora-web", "-n", "demo", "--dry-run"],
        check: contains("dry run: the API server accepted migrating demo/fedora-web"),
      },
      kubectl: { args: ["create", "--dry-run=server", "-f", manifest], check: contains("(server dry run)") },
    });
    const cases = [...diagnose, ...complete, ...dryRun];
    for (const c of cases) c.targets = [target(`${c.id}-wall`, "wall ≤ 1.0×", c.ratio.wall, 1.0)];
    return {
      cases,
      tables: [pairTable("Cluster commands next to kubectl (default scenario)", cases)],
      note: `${runsText(ctx, runs)}, alternating. kvmig's diagnose reads 13 objects and lists (the VM, its VMI, migrations, pods, events, nodes, the KubeVirt CR, virt-controller, the launcher's log, an access review) and checks every failure mode; kubectl's one list of four kinds is what an operator reads first by hand. The dry runs create nothing: kvmig's runs the pre-flight, then asks the API server to accept the VMIM with dryRun=All. The single executable's rows run the same commands as kubectl-kvmig (scripts/sea.mjs). Where the time goes, stage by stage: docs/cluster-commands-profile.md (scripts/timeline.mjs).`,
    };
  } finally {
    await sim.stop();
  }
}
