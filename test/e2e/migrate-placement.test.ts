// kvmig migrate refuses, before anything changes, a migration whose target pod no node can take:
// the VM's own nodeSelector pins it to its node (unschedulable scenario), a host-model CPU that
// only its node offers (cpu-mismatch), a VM no other node has the memory for. Each is a pre-flight
// error naming every node's reason, also under --dry-run (which used to say "accepted"), with the
// pre-flight refusal's exit code; --force still lets it through, and its JSON lists every node.
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/kubeconfig.js";
import { cliEnv, ensureBuilt, lines, runKvmig } from "./built-cli.js";

beforeAll(ensureBuilt, 120_000);

/** A pre-flight refusal: nothing was changed (the exit code of PreflightRefusedError). */
const refused = 8;

async function kvmig(args: string[]) {
  return runKvmig(args, cliEnv(tempDir()));
}

describe("kvmig migrate when no node can take the target pod", () => {
  it("--dry-run of a VM its nodeSelector pins to its node: refused, each node's reason, nothing accepted", async () => {
    const result = await kvmig(["migrate", "pinned-app", "-n", "apps", "--dry-run", "--sim=unschedulable"]);
    expect(result.code).toBe(refused);
    expect(result.stdout).toBe("");
    const err = lines(result.stderr);
    const why = "lacks label kubernetes.io/hostname=node-1 (nodeSelector)";
    const at = err.indexOf(`  error    no node can take it: node-2, node-3: ${why}`);
    expect(at).toBeGreaterThan(0);
    expect(err.slice(at + 1, at + 4)).toEqual([
      "           node-1: the source node",
      `           node-2: ${why}`,
      `           node-3: ${why}`,
    ]);
    expect(err.at(-2)).toBe(`error: pre-flight: no node can take it: node-2, node-3: ${why}`);
    expect(err.at(-1)).toMatch(
      /^hint: the VM's nodeSelector allows no other node: change spec\.template\.spec\.nodeSelector if it may move \(kubectl .*edit vm pinned-app -n apps.*\); --force starts the migration anyway$/,
    );
    expect(result.stderr).not.toContain("accepted");
  }, 60_000);

  it("a host-model CPU only its node offers: refused with the CPU label KubeVirt asks for, and the fix", async () => {
    const result = await kvmig(["migrate", "legacy-erp", "-n", "erp", "--dry-run", "--sim=cpu-mismatch"]);
    expect(result.code).toBe(refused);
    const err = lines(result.stderr);
    const why =
      "lacks label cpu-model-migration.node.kubevirt.io/Icelake-Server=true (host-model CPU of node-1)";
    expect(err).toContain(`           node-2: ${why}`);
    expect(err.at(-2)).toBe(`error: pre-flight: no node can take it: node-2, node-3: ${why}`);
    expect(err.at(-1)).toMatch(
      /^hint: no other node offers the host-model CPU of node-1: give the VM a CPU model every node offers \(spec\.template\.spec\.domain\.cpu\.model\), then kvmig restart legacy-erp -n erp\b/,
    );
    // A VM on a named model every node has still goes.
    const portable = await kvmig(["migrate", "portable-app", "-n", "erp", "--dry-run", "--sim=cpu-mismatch"]);
    expect(portable.code).toBe(0);
    expect(portable.stderr).toContain("  ok       2 other schedulable nodes: node-2, node-3");
  }, 60_000);

  it("no other node with the memory: the free and needed amounts per node", async () => {
    const result = await kvmig(["migrate", "big-mem", "-n", "apps", "--dry-run", "--sim=unschedulable"]);
    expect(result.code).toBe(refused);
    const err = lines(result.stderr);
    expect(err.at(-2)).toMatch(
      /^error: pre-flight: no node can take it: node-1: [\d.]+Gi memory free, needs 24\.\dGi; node-3: [\d.]+Gi memory free, needs 24\.\dGi$/,
    );
    expect(err).toContain("           node-2: the source node");
  }, 60_000);

  it("--force --dry-run -o json: the server-side dry run goes ahead, and the verdict lists every node", async () => {
    const result = await kvmig([
      "migrate",
      "pinned-app",
      "-n",
      "apps",
      "--dry-run",
      "--force",
      "-o",
      "json",
      "--sim=unschedulable",
    ]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    const verdict = out.verdicts.find((v: { check: string }) => v.check === "target-nodes");
    expect(verdict.status).toBe("error");
    expect(verdict.nodes).toEqual([
      { node: "node-1", reason: "the source node" },
      { node: "node-2", reason: "lacks label kubernetes.io/hostname=node-1 (nodeSelector)" },
      { node: "node-3", reason: "lacks label kubernetes.io/hostname=node-1 (nodeSelector)" },
    ]);
  }, 60_000);
});
