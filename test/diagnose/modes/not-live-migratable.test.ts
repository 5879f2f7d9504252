import { describe, expect, it } from "vitest";
import { notLiveMigratable } from "../../../src/diagnose/modes/not-live-migratable.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import {
  emptySnapshot,
  fixtureSnapshot,
  type HitExpectation,
  testRuleFixtures,
} from "../../helpers/diagnose.js";

const id = "not-live-migratable";

const hits: Record<string, HitExpectation> = {
  "kubevirt-12801-local-pv": {
    severity: "error",
    confidence: "high",
    evidence:
      "cannot migrate VMI: PVC registry-image-datavolume is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)",
    command: "kubectl get pvc registry-image-datavolume -n default -o 'jsonpath={.spec.accessModes}'",
  },
  "kubevirt-github-io-772-pod-bridge": {
    severity: "warning",
    confidence: "high",
    evidence: "cannot migrate VMI which does not use masquerade to connect to the pod network",
    command: "kubectl edit vm testvm -n default",
  },
};

describe("not-live-migratable on fixtures", () => {
  testRuleFixtures(notLiveMigratable, hits, {
    checkEvery: (f) => {
      expect(f.fix.commands.some((c) => c.startsWith("kvmig restart "))).toBe(true);
    },
  });

  it("says a drain is blocked for a LiveMigrate eviction strategy", async () => {
    const [f] = notLiveMigratable.detect(await fixtureSnapshot(id, "kubevirt-12801-local-pv"));
    expect(f?.summary).toContain("draining its node is blocked");
  });

  it("names the bridge-bound pod interface", async () => {
    const [f] = notLiveMigratable.detect(await fixtureSnapshot(id, "kubevirt-github-io-772-pod-bridge"));
    expect(f?.summary).toContain("interface default");
    expect(f?.fix.explanation).toContain("masquerade");
  });
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2024-09-10T07:00:00Z",
    namespace: "default",
    vmName: "registry-image-vm",
    ...parts,
  });
}

describe("without the VMI", () => {
  const rejection = {
    request: "PUT virtualmachines/registry-image-vm/migrate",
    status: 500,
    message:
      'Internal error occurred: admission webhook "migration-create-validator.kubevirt.io" denied the request: Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: cannot migrate VMI: PVC registry-image-datavolume is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)',
  };

  it("reads the reason from the webhook's rejection, with medium confidence", () => {
    const [f] = notLiveMigratable.detect(snapshot({ rejections: [rejection] }));
    expect(f?.confidence).toBe("medium");
    expect(f?.severity).toBe("error");
    expect(f?.summary).toContain("PVC registry-image-datavolume");
    expect(f?.notChecked?.[0]).toContain("VMI was not read");
    expect(f?.evidence[0]?.object).toBe("PUT virtualmachines/registry-image-vm/migrate");
  });

  it("finds nothing with neither a condition nor a rejection", () => {
    expect(notLiveMigratable.detect(snapshot({}))).toEqual([]);
  });
});
