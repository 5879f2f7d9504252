import { describe, expect, it } from "vitest";
import { postcopyUnavailable } from "../../../src/diagnose/modes/postcopy-unavailable.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { fixtureCases, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "postcopy-unavailable";

describe("postcopy-unavailable on fixtures", () => {
  const cases = fixtureCases(id);
  it("has the report's hit and a near miss", () => {
    expect(cases.hits).toEqual(["kubevirt-17780-userfaultfd"]);
    expect(cases.nearMisses.length).toBeGreaterThan(0);
  });

  it("fires on kubevirt-17780-userfaultfd", async () => {
    const findings = postcopyUnavailable.detect(await fixtureSnapshot(id, "kubevirt-17780-userfaultfd"));
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("error");
    expect(f?.confidence).toBe("high");
    expect(
      f?.evidence.some((e) =>
        e.text.includes("Postcopy is not supported: Userfaultfd not available: Operation not permitted"),
      ),
    ).toBe(true);
    expect(
      f?.evidence.some((e) => e.field === "status.migrationState.migrationConfiguration.allowPostCopy"),
    ).toBe(true);
    expect(f?.summary).toContain("target node worker-2");
    expect(f?.fix.commands).toContain(
      "kubectl debug node/worker-2 -it --image=busybox -- sysctl vm.unprivileged_userfaultfd",
    );
    expect(f?.fix.commands).toContain("kvmig migrate busy-db -n prod");
    expect(f?.fix.explanation).toContain("vm.unprivileged_userfaultfd=1");
  });

  for (const name of cases.nearMisses) {
    it(`stays silent on ${name}`, async () => {
      expect(postcopyUnavailable.detect(await fixtureSnapshot(id, name))).toEqual([]);
    });
  }
});

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return {
    source: "live",
    takenAt: "2026-05-12T09:30:00Z",
    namespace: "prod",
    vmName: "busy-db",
    migrations: [],
    pods: [],
    events: [],
    logs: [],
    nodes: [],
    networkAttachmentDefinitions: [],
    migrationPolicies: [],
    rejections: [],
    missing: [],
    ...parts,
  };
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
