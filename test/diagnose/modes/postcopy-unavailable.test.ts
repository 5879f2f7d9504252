import { describe, expect, it } from "vitest";
import { postcopyUnavailable } from "../../../src/diagnose/modes/postcopy-unavailable.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { emptySnapshot, type HitExpectation, testRuleFixtures } from "../../helpers/diagnose.js";

const hits: Record<string, HitExpectation> = {
  "kubevirt-17780-userfaultfd": {
    severity: "error",
    confidence: "high",
    evidence: "Postcopy is not supported: Userfaultfd not available: Operation not permitted",
    summary: "target node worker-2",
    command: [
      "kubectl debug node/worker-2 -it --image=busybox -- sysctl vm.unprivileged_userfaultfd",
      "kvmig migrate busy-db -n prod",
    ],
    check: (f) => {
      expect(
        f.evidence.some((e) => e.field === "status.migrationState.migrationConfiguration.allowPostCopy"),
      ).toBe(true);
      expect(f.fix.explanation).toContain("vm.unprivileged_userfaultfd=1");
    },
  },
};

describe("postcopy-unavailable on fixtures", () => {
  testRuleFixtures(postcopyUnavailable, hits);
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({
    source: "live",
    takenAt: "2026-05-12T09:30:00Z",
    namespace: "prod",
    vmName: "busy-db",
    ...parts,
  });
}

describe("from a launcher log line alone", () => {
  const logs = [
    {
      namespace: "prod",
      pod: "virt-launcher-busy-db-t4w8q",
      container: "compute",
      lines: [
        '{"component":"virt-launcher","level":"error","msg":"internal error: unable to execute QEMU command \'migrate-set-capabilities\': Postcopy is not supported: Userfaultfd not available: Permission denied","pos":"qemuMonitorJSONCheckError:399","subcomponent":"libvirt","timestamp":"2026-05-12T09:22:39.000000Z"}',
      ],
    },
  ];

  it("reads an SELinux-style denial, and says which node it could not name", () => {
    const [f] = postcopyUnavailable.detect(snapshot({ logs }));
    expect(f?.summary).toContain("SELinux");
    expect(f?.notChecked?.[0]).toContain("which node");
    expect(f?.evidence[0]?.object).toBe("Pod/virt-launcher-busy-db-t4w8q");
    expect(f?.fix.commands.some((c) => c.startsWith("kubectl patch kubevirt kubevirt -n kubevirt"))).toBe(
      true,
    );
  });

  it("turns post-copy off in the MigrationPolicy that enabled it", () => {
    const vmi = {
      metadata: { name: "busy-db", namespace: "prod" },
      spec: {},
      status: {
        migrationState: {
          targetNode: "worker-2",
          migrationPolicyName: "busy vms",
          migrationConfiguration: { allowPostCopy: true },
        },
      },
    };
    const [f] = postcopyUnavailable.detect(snapshot({ logs, vmi }));
    expect(f?.fix.commands).toContain(
      `kubectl patch migrationpolicy 'busy vms' --type merge -p '{"spec":{"allowPostCopy":false}}'`,
    );
  });
});
