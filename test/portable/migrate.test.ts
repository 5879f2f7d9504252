// Portable (simulated kind cluster by default, the real one with KVMIG_E2E_TARGET=cluster):
// kvmig migrate checks, starts and follows a live migration to its end, and the VMI ends on
// another node. vm-bridge has a bridge-bound interface on the Multus network vlan-13, the case
// the seed environment cares about; vm-masq uses the pod network only.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { lines } from "../e2e/built-cli.js";
import { createTarget, type E2eTarget, namespace, timeoutFor, vmBridge, vmMasq } from "./target.js";

let target: E2eTarget;
beforeAll(async () => {
  target = await createTarget();
}, 60_000);
afterEach(() => target?.cleanup(), timeoutFor(30_000));
afterAll(() => target?.close());

describe.each([vmBridge, vmMasq])("kvmig migrate %s", (vm) => {
  it(
    "passes the pre-flight, prints each phase as it happens, and reports Succeeded on another node",
    async () => {
      await target.settle();
      const source = (await target.vmi(vm))?.status?.nodeName;
      expect(source).toBeTruthy();
      const result = await target.run(["migrate", vm, "-n", namespace]);
      expect(result.stderr).not.toMatch(/^error:/m);
      expect(result.code).toBe(0);

      const [migration] = (await target.migrations(vm))
        .filter((m) => m.status?.phase === "Succeeded")
        .sort((a, b) =>
          String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
        );
      const name = migration?.metadata.name;
      expect(name).toBeTruthy();
      const after = await target.vmi(vm);
      const destination = after?.status?.nodeName;
      expect(destination).toBeTruthy();
      expect(destination).not.toBe(source);
      expect(after?.status?.migrationState).toMatchObject({ completed: true, targetNode: destination });

      // The pre-flight found nothing wrong, then the phases came one per line, ending in Succeeded.
      const err = lines(result.stderr);
      // The header names the cluster it acts on (context and server), whichever the target is.
      expect(err[0]).toMatch(
        new RegExp(`^pre-flight ${namespace}/${vm} on context \\S+ \\(https://\\S+\\)$`),
      );
      expect(err.filter((l) => /^ {2}error /.test(l))).toEqual([]);
      expect(err).toContain(`  ok       VMI ${vm} is Running on ${source}`);
      expect(err).toContain("  ok       live-migratable");
      expect(err).toContain(
        vm === vmBridge ? "  ok       Multus networks present: vlan-13" : "  ok       no Multus networks",
      );
      expect(err).toContain(`migration ${name} started for ${namespace}/${vm} on ${source}`);
      const phases = err
        .map(
          (l) =>
            /^ {2}(Pending|Scheduling|Scheduled|PreparingTarget|TargetReady|Running|Succeeded)\b/.exec(
              l,
            )?.[1],
        )
        .filter(Boolean);
      expect(phases.at(-1)).toBe("Succeeded");
      expect(phases).toContain("Running");
      expect(err.some((l) => new RegExp(`^ {2}Running +\\S+ +${source} → ${destination}$`).test(l))).toBe(
        true,
      );

      const out = lines(result.stdout);
      expect(out[0]).toBe(`Succeeded  ${namespace}/${vm} moved ${source} → ${destination}`);
      expect(out[1]).toBe(`  migration  ${name}`);
    },
    timeoutFor(60_000),
  );
});
