// The pure parts of a node evacuation (operations/evacuate-node.ts): which failed migrations count
// as this evacuation's attempts, when KubeVirt marked a VMI, the counts of the node's bar, and the
// exit a run ends with.
import { describe, expect, it } from "vitest";
import { outcomeError } from "../../src/commands/evacuate.js";
import { ExitCode, type KvmigError } from "../../src/errors.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import type { PlannedVm } from "../../src/migration/evacuation-plan.js";
import {
  countsOf,
  type EvacuationResult,
  failedAttempts,
  fixLine,
  markedSince,
  type VmStatus,
} from "../../src/operations/evacuate-node.js";

const at = (iso: string) => Date.parse(iso);

function vmim(
  name: string,
  parts: {
    vmi?: string;
    phase?: string;
    created?: string;
    node?: string | null;
    annotations?: Record<string, string>;
  },
): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name,
      namespace: "prod",
      uid: `uid-${name}`,
      creationTimestamp: parts.created ?? "2026-12-07T10:00:00Z",
      annotations:
        parts.annotations ??
        (parts.node === null ? {} : { "kubevirt.io/evacuationMigration": parts.node ?? "node-1" }),
    },
    spec: { vmiName: parts.vmi ?? "db" },
    status: { phase: parts.phase ?? "Failed" },
  } as VirtualMachineInstanceMigration;
}

describe("failedAttempts", () => {
  const since = at("2026-12-07T10:00:00Z");
  const now = at("2026-12-07T10:30:00Z");

  it("counts the failed evacuation migrations of the VMI from this node since it was marked", () => {
    const list = [
      vmim("a", { created: "2026-12-07T10:00:05Z" }),
      vmim("b", { created: "2026-12-07T10:01:00Z" }),
      vmim("c", { created: "2026-12-07T10:02:00Z", phase: "Succeeded" }),
      vmim("d", { created: "2026-12-07T10:03:00Z", phase: "Running" }),
      vmim("e", { created: "2026-12-07T10:03:00Z", vmi: "web" }),
      vmim("f", { created: "2026-12-07T10:03:00Z", node: "node-2" }),
      vmim("g", { created: "2026-12-07T10:03:00Z", node: null }),
      vmim("h", { created: "2026-12-07T09:58:00Z" }),
    ];
    expect(failedAttempts(list, "db", "node-1", since, now).map((m) => m.metadata.name)).toEqual(["a", "b"]);
  });

  it("allows the second KubeVirt's timestamps round to", () => {
    const list = [
      vmim("a", { created: "2026-12-07T09:59:59Z" }),
      vmim("b", { created: "2026-12-07T09:59:58Z" }),
    ];
    expect(failedAttempts(list, "db", "node-1", since, now).map((m) => m.metadata.name)).toEqual(["a"]);
  });

  it("without the mark's time (KubeVirt before v1.7) counts the last hour's", () => {
    const list = [
      vmim("a", { created: "2026-12-07T09:31:00Z" }),
      vmim("b", { created: "2026-12-07T09:29:00Z" }),
    ];
    expect(failedAttempts(list, "db", "node-1", undefined, now).map((m) => m.metadata.name)).toEqual(["a"]);
  });

  it("reads the VMI's name from the label when the spec has none", () => {
    const m = vmim("a", {});
    m.spec = {} as never;
    m.metadata.labels = { "kubevirt.io/vmi-name": "db" };
    expect(failedAttempts([m], "db", "node-1", since, now)).toHaveLength(1);
  });
});

describe("markedSince", () => {
  const vmi = (conditions: unknown[]) =>
    ({ metadata: {}, status: { conditions } }) as unknown as VirtualMachineInstance;

  it("is the EvictionRequested condition's transition time", () => {
    expect(
      markedSince(
        vmi([
          { type: "Ready", status: "True", lastTransitionTime: "2026-12-07T09:00:00Z" },
          { type: "EvictionRequested", status: "True", lastTransitionTime: "2026-12-07T10:00:00Z" },
        ]),
      ),
    ).toBe(at("2026-12-07T10:00:00Z"));
  });

  it("is unknown without the condition, with it False, or without a time", () => {
    expect(markedSince(vmi([]))).toBeUndefined();
    expect(markedSince(undefined)).toBeUndefined();
    expect(
      markedSince(
        vmi([{ type: "EvictionRequested", status: "False", lastTransitionTime: "2026-12-07T10:00:00Z" }]),
      ),
    ).toBeUndefined();
    expect(markedSince(vmi([{ type: "EvictionRequested", status: "True" }]))).toBeUndefined();
  });
});

const planned = (vm: string): PlannedVm =>
  ({ namespace: "prod", vm, vmi: vm, action: "migrate" }) as PlannedVm;

function result(vm: string, outcome: EvacuationResult["outcome"]): EvacuationResult {
  return {
    namespace: "prod",
    vm,
    vmi: vm,
    outcome,
    from: "node-1",
    to: outcome === "migrated" ? "node-2" : null,
    duration: 10,
    attempts: 1,
    cause: outcome === "failed" ? "cpu-model-mismatch" : null,
    message: null,
    fix: null,
  };
}

describe("countsOf", () => {
  it("counts each VM once: finished by outcome, running while it migrates or restarts, else queued", () => {
    const statuses: VmStatus[] = [
      { vm: planned("a"), stage: "finished", attempts: 1, result: result("a", "migrated") },
      { vm: planned("b"), stage: "finished", attempts: 0, result: result("b", "restarted") },
      { vm: planned("c"), stage: "finished", attempts: 0, result: result("c", "skipped") },
      { vm: planned("d"), stage: "finished", attempts: 2, result: result("d", "failed") },
      { vm: planned("e"), stage: "finished", attempts: 0, result: result("e", "blocked") },
      { vm: planned("f"), stage: "migrating", attempts: 0 },
      { vm: planned("g"), stage: "restarting", attempts: 0 },
      { vm: planned("h"), stage: "waiting", attempts: 1 },
    ];
    expect(countsOf(statuses)).toEqual({ done: 3, running: 2, queued: 1, failed: 1, blocked: 1, total: 8 });
  });
});

describe("the exit of a run", () => {
  const outcome = (parts: Partial<Parameters<typeof outcomeError>[0]>) => ({
    node: "node-1",
    cordoned: true,
    results: [],
    remaining: [],
    interrupted: false,
    timedOut: false,
    ...parts,
  });

  it("is 0 when nothing is left on the node", () => {
    expect(outcomeError(outcome({ results: [result("a", "migrated")] }), "node-1")).toBeUndefined();
  });

  it("is 3 naming each VM left, with diagnose for the first failure", () => {
    const error = outcomeError(
      outcome({
        results: [result("a", "migrated"), result("b", "blocked"), result("c", "failed")],
        remaining: [
          { namespace: "prod", vmi: "b" },
          { namespace: "prod", vmi: "c" },
          { namespace: "dev", vmi: "late" },
        ],
      }),
      "node-1",
    ) as KvmigError;
    expect(error.exitCode).toBe(ExitCode.operationFailed);
    expect(error.message).toBe(
      "3 VMs still on node-1: prod/b (blocked), prod/c (failed), dev/late (still there)",
    );
    expect(error.hint).toBe("see why with: kvmig diagnose c -n prod");
  });

  it("is 3 for a blocked VM alone, and says the node stays cordoned", () => {
    const error = outcomeError(
      outcome({ results: [result("b", "blocked")], remaining: [{ namespace: "prod", vmi: "b" }] }),
      "node-1",
    ) as KvmigError;
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe("1 VM still on node-1: prod/b (blocked)");
    expect(error.hint).toBe(
      "the summary says how to move each; node-1 stays cordoned (uncordon it with: kubectl uncordon node-1)",
    );
  });

  it("is 130 on Ctrl-C, saying KubeVirt goes on and how to follow, resume and stop it", () => {
    const error = outcomeError(
      outcome({ interrupted: true, results: [result("c", "failed")] }),
      "node-1",
    ) as KvmigError;
    expect(error.exitCode).toBe(ExitCode.interrupted);
    expect(error.message).toBe(
      "interrupted: kvmig stopped following; KubeVirt's evacuation of node-1 goes on",
    );
    expect(error.hint).toBe(
      "follow it with: kvmig watch --node node-1; pick it up again with: kvmig evacuate node-1; stop it with: kvmig evacuate node-1 --cancel",
    );
  });

  it("is 6 on the timeout, the evacuation going on", () => {
    const error = outcomeError(outcome({ timedOut: true }), "node-1") as KvmigError;
    expect(error.exitCode).toBe(ExitCode.timedOut);
    expect(error.message).toBe(
      "the evacuation of node-1 did not end within the --timeout; KubeVirt's evacuation goes on",
    );
    expect(error.hint).toBe(
      "follow it with: kvmig watch --node node-1; stop it with: kvmig evacuate node-1 --cancel",
    );
  });
});

describe("fixLine", () => {
  const finding = (commands: string[], explanation = "do this") =>
    ({ id: "x", fix: { commands, explanation } }) as unknown as Parameters<typeof fixLine>[0];
  const web = planned("web");

  it("is diagnose's first command when it is one line", () => {
    expect(fixLine(finding(["kubectl get nodes -l a=b", "second"]), web)).toBe("kubectl get nodes -l a=b");
  });

  it("points to diagnose when the command is a here-document, or there is none", () => {
    expect(fixLine(finding(["kubectl apply -f - <<'EOF'\nkind: X\nEOF"]), web)).toBe(
      "see the fix with: kvmig diagnose web -n prod",
    );
    expect(fixLine(finding([]), web)).toBe("see the fix with: kvmig diagnose web -n prod");
    expect(fixLine(undefined, web)).toBeNull();
  });
});
