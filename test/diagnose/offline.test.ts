// diagnose --from DIR: the snapshot of one VM from kubectl output, must-gather trees and saved
// logs; the other VMs in the directory stay out; bad files become notes, never a crash.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadSnapshotFromDir } from "../../src/diagnose/offline.js";
import { ExitCode, KvmigError, NotFoundError, UsageError } from "../../src/errors.js";
import { tempDir } from "../helpers/kubeconfig.js";

const fixtures = fileURLToPath(new URL("../fixtures/diagnose-offline", import.meta.url));
const dir = (name: string) => join(fixtures, name);

async function failure(promise: Promise<unknown>): Promise<KvmigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof KvmigError)) throw new Error(`expected a KvmigError, got ${String(error)}`);
  return error;
}

describe("loadSnapshotFromDir: kubectl get -o yaml output (a List) and saved logs", () => {
  it("picks the one VMI's objects when named, and leaves the other VM's out", async () => {
    const s = await loadSnapshotFromDir(dir("kubectl-list"), { vmName: "db-1" });
    expect(s.source).toBe("directory");
    expect(s.vmName).toBe("db-1");
    expect(s.namespace).toBe("demo");
    expect(s.vm?.metadata.uid).toBe("6d1c2a8e-0000-4000-8000-000000000001");
    expect(s.vmi?.status?.nodeName).toBe("node-1");
    // By label or by spec.vmiName, oldest first whatever the file order.
    expect(s.migrations.map((m) => m.metadata.name)).toEqual([
      "kubevirt-migrate-vm-first",
      "kubevirt-migrate-vm-second",
    ]);
    // By kubevirt.io/created-by (the VMI uid) and by the kubevirt.io/domain annotation.
    expect(s.pods.map((p) => p.metadata.name)).toEqual([
      "virt-launcher-db-1-abcde",
      "virt-launcher-db-1-fghij",
    ]);
    // Events of the VMI, its VMIMs and its pods, oldest first; web-2's event is not there.
    expect(s.events.map((e) => e.reason)).toEqual(["SuccessfulCreate", "Created", "Migrated"]);
    expect(s.logs).toEqual([
      {
        namespace: "demo",
        pod: "virt-launcher-db-1-abcde",
        container: "compute",
        lines: [
          expect.stringContaining("Migration info"),
          expect.stringContaining("client socket is closed"),
        ],
      },
    ]);
    expect(s.rejections).toEqual([]);
    expect(s.canMigrate).toBeUndefined();
  });

  it("takes the snapshot's time from the newest timestamp in the VM's evidence", async () => {
    const s = await loadSnapshotFromDir(dir("kubectl-list"), { vmName: "db-1" });
    // VMIM second was created at 10:05:00; web-2's event at 11:00 is not db-1's evidence.
    expect(s.takenAt).toBe("2025-03-01T10:05:00Z");
    const pinned = await loadSnapshotFromDir(dir("kubectl-list"), {
      vmName: "db-1",
      at: "2025-03-02T00:00:00Z",
    });
    expect(pinned.takenAt).toBe("2025-03-02T00:00:00Z");
  });

  it("records what the directory does not hold", async () => {
    const s = await loadSnapshotFromDir(dir("kubectl-list"), { vmName: "db-1" });
    const what = s.missing.map((m) => m.what);
    expect(what).toEqual(
      expect.arrayContaining([
        "nodes",
        "KubeVirt resource",
        "virt-controller Deployment (the current launcher image)",
        "NetworkAttachmentDefinitions",
        "MigrationPolicies",
        "permission to migrate (SelfSubjectAccessReview)",
      ]),
    );
    expect(what).not.toContain("events");
    expect(what).not.toContain("VirtualMachine demo/db-1");
  });

  it("without a name and with several VMIs: a usage error listing them (exit 2)", async () => {
    const error = await failure(loadSnapshotFromDir(dir("kubectl-list")));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(
      `"${dir("kubectl-list")}" holds 2 VMs: demo/db-1, demo/web-2; name the one to diagnose`,
    );
  });

  it("a name the directory does not know: not found (exit 5), with the VMs it holds in the hint", async () => {
    const error = await failure(loadSnapshotFromDir(dir("kubectl-list"), { vmName: "nope" }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.exitCode).toBe(ExitCode.notFound);
    expect(error.message).toBe(`VM "nope" not found in "${dir("kubectl-list")}"`);
    expect(error.hint).toBe("the directory holds: demo/db-1, demo/web-2");
  });

  it("-n narrows the choice: a VM in another namespace is not found", async () => {
    const error = await failure(
      loadSnapshotFromDir(dir("kubectl-list"), { vmName: "db-1", namespace: "prod" }),
    );
    expect(error.exitCode).toBe(ExitCode.notFound);
    expect(error.message).toBe(`VM "db-1" not found in namespace prod in "${dir("kubectl-list")}"`);
  });

  it("an --at that is not a time is a usage error", async () => {
    const error = await failure(
      loadSnapshotFromDir(dir("kubectl-list"), { vmName: "db-1", at: "yesterday" }),
    );
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe('"yesterday" is not a time');
  });
});

describe("loadSnapshotFromDir: a must-gather tree", () => {
  it("reads objects, EventLists, events.k8s.io events, the current launcher image and must-gather logs", async () => {
    const s = await loadSnapshotFromDir(dir("must-gather"));
    expect(s.vmName).toBe("db-1");
    expect(s.vm).toBeUndefined();
    expect(s.pods.map((p) => p.metadata.name)).toEqual(["virt-launcher-db-1-qrstu"]);
    expect(s.nodes.map((n) => n.metadata.name)).toEqual(["node-1"]);
    expect(s.kubevirt?.status?.observedKubeVirtVersion).toBe("v1.9.0");
    expect(s.virtController?.metadata.name).toBe("virt-controller");
    expect(s.currentLauncherImage).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
    expect(s.logs).toEqual([
      {
        namespace: "demo",
        pod: "virt-launcher-db-1-qrstu",
        container: "compute",
        lines: [
          expect.stringContaining("Domain started"),
          "2025-03-01T09:45:12.000000000Z plain text line without JSON",
        ],
      },
    ]);
    expect(s.events.map((e) => [e.reason, e.involvedObject.kind, e.message, e.count])).toEqual([
      ["Started", "VirtualMachineInstance", "VirtualMachineInstance started.", undefined],
      ["Migrating", "VirtualMachineInstance", "old-style counters", 2],
      ["FailedScheduling", "Pod", "0/3 nodes are available: 1 Insufficient memory.", 4],
    ]);
    const scheduling = s.events.find((e) => e.reason === "FailedScheduling");
    expect(scheduling).toMatchObject({
      eventTime: "2025-03-01T09:40:00.000000Z",
      lastTimestamp: "2025-03-01T09:50:00.000000Z",
      source: { component: "default-scheduler" },
      reportingInstance: "default-scheduler-control-plane",
    });
    expect(s.events.find((e) => e.reason === "Migrating")).toMatchObject({
      firstTimestamp: "2025-03-01T09:20:00Z",
      lastTimestamp: "2025-03-01T09:21:00Z",
      source: { component: "virt-handler", host: "node-1" },
    });
    // The series' last time is the newest moment in this evidence.
    expect(s.takenAt).toBe("2025-03-01T09:50:00.000000Z");
    expect(s.missing.map((m) => m.what)).toContain("VirtualMachine demo/db-1");
  });
});

describe("loadSnapshotFromDir: bad input", () => {
  it("skips truncated, binary, foreign and broken files with a note, and keeps the rest", async () => {
    const s = await loadSnapshotFromDir(dir("malformed"));
    expect(s.vmName).toBe("lonely");
    expect(s.namespace).toBe("lab");
    // A VMI without status is still the subject.
    expect(s.vmi?.status).toBeUndefined();
    expect(s.pods).toEqual([]);
    expect(s.logs).toEqual([]);
    const notes = s.missing.map((m) => `${m.what}: ${m.why}`);
    expect(notes).toEqual(
      expect.arrayContaining([
        "file core.json: not a text file, or unreadable",
        "log virt-launcher-lonely-aaaaa.log: not a text file, or unreadable",
        "file settings.yml: holds no Kubernetes objects (no kind and metadata)",
        expect.stringMatching(/^file truncated\.yaml: not valid YAML or JSON: /),
        expect.stringMatching(/^file broken\.json: not valid YAML or JSON: /),
      ]),
    );
    // The unknown kind is ignored without a note: many kinds are simply not diagnose's business.
    expect(notes.some((n) => n.includes("gadget"))).toBe(false);
    expect(s.takenAt).toBe("2025-04-02T10:00:00Z");
  });

  it("an empty directory is a usage error (exit 2) saying so", async () => {
    const empty = tempDir();
    const error = await failure(loadSnapshotFromDir(empty));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`directory "${empty}" is empty`);
    expect(error.hint).toMatch(/^save the evidence first/);
  });

  it("a directory of unusable files says what was wrong with the first one", async () => {
    const junk = tempDir();
    writeFileSync(join(junk, "a.yaml"), "key: [unclosed\n");
    writeFileSync(join(junk, "notes.txt"), "hello\n");
    const error = await failure(loadSnapshotFromDir(junk));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(
      new RegExp(
        `^directory "${junk}" holds no readable manifests or logs \\(file a\\.yaml: not valid YAML or JSON: .+\\)$`,
      ),
    );
  });

  it("a missing directory is not found (exit 5); a file instead of a directory is a usage error", async () => {
    const missing = join(tempDir(), "nope");
    const notFound = await failure(loadSnapshotFromDir(missing));
    expect(notFound.exitCode).toBe(ExitCode.notFound);
    expect(notFound.message).toBe(`directory "${missing}" not found`);
    const file = join(tempDir(), "dump.yaml");
    writeFileSync(file, "kind: Pod\n");
    const notDir = await failure(loadSnapshotFromDir(file));
    expect(notDir.exitCode).toBe(ExitCode.usage);
    expect(notDir.message).toBe(`--from needs a directory, and "${file}" is a file`);
    // The user's file is copied, never moved.
    expect(notDir.hint).toBe(
      `copy the file into a directory of its own: mkdir evidence && cp ${file} evidence/`,
    );
  });

  it("several VMs and no name: the usage error lists them with their namespaces", async () => {
    const error = await failure(loadSnapshotFromDir(dir("two-vms")));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(
      `"${dir("two-vms")}" holds 3 VMs: demo/alpha, demo/beta, other/gamma; name the one to diagnose`,
    );
    const narrowed = await failure(loadSnapshotFromDir(dir("two-vms"), { namespace: "demo" }));
    expect(narrowed.message).toMatch(/holds 2 VMs: demo\/alpha, demo\/beta;/);
    const single = await loadSnapshotFromDir(dir("two-vms"), { namespace: "other" });
    expect(single.vmName).toBe("gamma");
    expect(single.vm?.metadata.namespace).toBe("other");
  });

  it("a VM known only from its migrations and logs still gets a snapshot, with the VM and VMI missing", async () => {
    const root = tempDir();
    mkdirSync(join(root, "virt-launcher-ghost-bbbbb"));
    writeFileSync(
      join(root, "vmim.json"),
      JSON.stringify({
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstanceMigration",
        metadata: { name: "m1", namespace: "lab", creationTimestamp: "2025-05-01T00:00:00Z" },
        spec: { vmiName: "ghost" },
        status: { phase: "Failed" },
      }),
    );
    writeFileSync(join(root, "virt-launcher-ghost-bbbbb", "compute.log"), "line one\nline two\n");
    const s = await loadSnapshotFromDir(root, { vmName: "ghost" });
    expect(s.namespace).toBe("lab");
    expect(s.migrations).toHaveLength(1);
    expect(s.logs).toEqual([
      {
        namespace: "lab",
        pod: "virt-launcher-ghost-bbbbb",
        container: "compute",
        lines: ["line one", "line two"],
      },
    ]);
    expect(s.missing.map((m) => m.what)).toEqual(
      expect.arrayContaining([
        "VirtualMachine lab/ghost",
        "VirtualMachineInstance lab/ghost",
        "pods",
        "events",
      ]),
    );
  });
});

describe("refused requests saved as Status bodies", () => {
  it("become the snapshot's rejections, so migrate-forbidden fires from a directory", async () => {
    const { loadSnapshotFromDir } = await import("../../src/diagnose/offline.js");
    const { migrateForbidden } = await import("../../src/diagnose/modes/migrate-forbidden.js");
    const dir = new URL("../fixtures/diagnose/migrate-forbidden/pr7739-edit-user/", import.meta.url).pathname;
    const snapshot = await loadSnapshotFromDir(dir);
    expect(snapshot.rejections).toEqual([
      {
        request: "PUT virtualmachines/db-1/migrate",
        status: 403,
        reason: "Forbidden",
        message:
          'virtualmachines.subresources.kubevirt.io "db-1" is forbidden: User "dev" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "demo"',
      },
    ]);
    expect(migrateForbidden.detect(snapshot).map((f) => f.id)).toEqual(["migrate-forbidden"]);
  });
});
