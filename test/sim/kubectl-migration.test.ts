// A real migration seen through the real kubectl: `kubectl get vmim -n demo -w` prints the
// phases the simulated KubeVirt moves through, in order, with simulated time running fast.
import { afterEach, describe, expect, it } from "vitest";
import { fields, findKubectl, Kubectl } from "../helpers/kubectl.js";
import { simPerTest, simRequest } from "../helpers/sim.js";
import { successfulPhases } from "../helpers/sim-time.js";

const binary = findKubectl();
if (!binary)
  console.warn("kubectl not found on PATH or in /usr/bin: the kubectl migration tests are skipped");

describe.skipIf(!binary)("kubectl watching a simulated migration", () => {
  const sim = simPerTest({ speed: 10 });
  let kubectl: Kubectl | undefined;
  afterEach(async () => {
    await kubectl?.close();
    kubectl = undefined;
  });

  it("kubectl get vmim -n demo -w shows every phase of a migration, in order", async () => {
    kubectl = new Kubectl(binary as string, sim());
    // -v=6 logs each request, so the test can start the migration once the watch is open.
    const watch = kubectl.start(["get", "vmim", "-n", "demo", "-w", "-v=6"]);
    while (!/virtualmachineinstancemigrations\?.*watch=true.* 200 OK/.test(watch.stderr)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const res = await simRequest(
      sim(),
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
      {
        body: {},
      },
    );
    expect(res.status).toBe(202);
    await watch.waitForLine((line) => fields(line)[1] === "Succeeded");
    await watch.stop();
    const rows = watch.lines().filter((line) => !line.startsWith("NAME"));
    for (const row of rows) {
      expect(fields(row)[0]).toMatch(/^kubevirt-migrate-vm-[a-z0-9]{5}$/);
      expect(fields(row).at(-1)).toBe("fedora-web");
    }
    // Each phase once, in KubeVirt's order (a watch may fold two quick changes into one row).
    const seen = rows
      .map((row) => fields(row)[1])
      .filter((phase, i, all) => phase !== all[i - 1] && phase !== "fedora-web");
    const order = seen.map((phase) => successfulPhases.indexOf(phase ?? ""));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(seen.at(-1)).toBe("Succeeded");
    expect(seen).toEqual(expect.arrayContaining(["Pending", "Scheduling", "Running", "Succeeded"]));
  });
});
