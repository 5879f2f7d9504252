// Portable suite, fault cases: these need faults injected into the cluster, which only the
// simulated one allows. On a real cluster (KVMIG_E2E_TARGET=cluster) each is skipped, with the
// reason printed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { lines } from "../e2e/built-cli.js";
import {
  createTarget,
  type E2eTarget,
  namespace,
  requireFaults,
  targetKind,
  vmBridge,
  vmMasq,
} from "./target.js";

const real = targetKind() === "cluster";

let target: E2eTarget;
beforeAll(async () => {
  // Real time for the simulation: a migration takes about 4 s, long enough for watches to drop.
  target = await createTarget(
    real
      ? {}
      : {
          speed: 1,
          migrationFaults: [
            { type: "connectionDrop", vm: `${namespace}/${vmMasq}`, atProgress: 0.2, times: 1 },
          ],
        },
  );
}, 60_000);
afterEach(async () => {
  target?.sim?.faults.clear();
  await target?.cleanup();
}, 30_000);
afterAll(() => target?.close());

describe("under injected faults", () => {
  it("watches dropped every second: kvmig migrate resumes them and still follows the migration to Succeeded", async (ctx) => {
    const sim = requireFaults(target, ctx, "watch streams that the API server ends every second");
    await target.settle();
    sim.faults.set("drop-watches=1s");
    const source = (await target.vmi(vmBridge))?.status?.nodeName;
    const result = await target.run(["migrate", vmBridge, "-n", namespace]);
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(0);
    expect(sim.faults.stats().watchesDropped).toBeGreaterThan(0);
    const destination = (await target.vmi(vmBridge))?.status?.nodeName;
    expect(destination).not.toBe(source);
    expect(lines(result.stdout)[0]).toBe(
      `Succeeded  ${namespace}/${vmBridge} moved ${source} → ${destination}`,
    );
  }, 40_000);

  it("the libvirt connection to the target drops mid-migration: kvmig reports the failure (exit 3) and the VM stays", async (ctx) => {
    requireFaults(target, ctx, "a dropped libvirt connection during the migration of vm-masq");
    await target.settle();
    const source = (await target.vmi(vmMasq))?.status?.nodeName;
    const result = await target.run(["migrate", vmMasq, "-n", namespace]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("client socket is closed");
    expect(lines(result.stdout)[0]).toBe(`Failed  ${namespace}/${vmMasq} stays on ${source}`);
    expect((await target.vmi(vmMasq))?.status?.nodeName).toBe(source);
  }, 40_000);
});
