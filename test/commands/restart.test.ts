// The server's restart refusals (facts §a, RestartVMRequestHandler) keep its words; each gets
// the hint that fits it and the exit code of a failed operation.
import { describe, expect, it } from "vitest";
import { ApiError, ExitCode, type KvmigError } from "../../src/errors.js";
import { restartRefusal } from "../../src/operations/restart-vm.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { runCli } from "../helpers/test-context.js";

const conflict = (why: string) =>
  new ApiError(
    `Operation cannot be fulfilled on virtualmachine.kubevirt.io "db": ${why}`,
    409,
    "Conflict",
    1,
  );

describe("restartRefusal", () => {
  it.each([
    [
      "RunStategy Halted does not support manual restart requests",
      "the VM is stopped (runStrategy Halted); start it with: virtctl start db -n prod",
    ],
    [
      "RunStategy Once does not support manual restart requests",
      "the VM's runStrategy does not allow a restart; start and stop it instead: virtctl stop db -n prod, then virtctl start db -n prod",
    ],
    [
      "VM is not running: Halted",
      "the VM has no running VMI to restart; start it with: virtctl start db -n prod",
    ],
    [
      "VM recovery required: Volume migration failed, restart the VM after the volumes are recovered",
      "a volume migration failed and the VM needs its volumes recovered first; see: kubectl describe vm db -n prod",
    ],
  ])("409 %s", (why, hint) => {
    const error = restartRefusal(conflict(why), "prod", "db") as KvmigError;
    expect(error.message).toBe(
      `the server refused to restart prod/db: Operation cannot be fulfilled on virtualmachine.kubevirt.io "db": ${why}`,
    );
    expect(error.hint).toBe(hint);
    expect(error.exitCode).toBe(ExitCode.operationFailed);
  });

  it("403 names the subresource and the roles that grant it, exit 4", () => {
    const error = restartRefusal(
      new ApiError('virtualmachines.subresources.kubevirt.io "db" is forbidden', 403, "Forbidden", 4),
      "prod",
      "db",
    ) as KvmigError;
    expect(error.exitCode).toBe(ExitCode.unauthorized);
    expect(error.hint).toBe(
      'you may not update virtualmachines/restart in "prod"; the admin and edit ClusterRoles grant it',
    );
  });

  it("anything else passes through unchanged", () => {
    const other = new ApiError("etcdserver: request timed out", 500, "InternalError", 1);
    expect(restartRefusal(other, "prod", "db")).toBe(other);
  });
});

describe("restart: how long the VM has been on its node", () => {
  // The fake clock stands at 2026-11-25T12:00:00Z.
  const vmi = (status: Record<string, unknown>) => ({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: "db",
      namespace: "prod",
      creationTimestamp: "2026-11-15T12:00:00Z",
      ownerReferences: [{ kind: "VirtualMachine", name: "db" }],
    },
    status: {
      phase: "Running",
      nodeName: "node-3",
      phaseTransitionTimestamps: [{ phase: "Running", phaseTransitionTimestamp: "2026-11-15T12:00:30Z" }],
      ...status,
    },
  });

  async function runningLine(status: Record<string, unknown>): Promise<string | undefined> {
    const kube = fakeKube(
      {
        get: (async (resource: string) =>
          resource === "vm"
            ? {
                apiVersion: "kubevirt.io/v1",
                kind: "VirtualMachine",
                metadata: { name: "db", namespace: "prod" },
              }
            : vmi(status)) as never,
        findKubeVirt: async () => undefined,
        restart: async () => {},
      },
      { namespace: "prod" },
    );
    const { code, stderr } = await runCli(["restart", "db", "--dry-run"], { kube });
    expect(code).toBe(0);
    return stderr.split("\n").find((line) => line.startsWith("  running on"));
  }

  it("since the migration that brought it there ended, not since the VMI started (10 days before)", async () => {
    const line = await runningLine({
      migrationState: {
        sourceNode: "node-1",
        targetNode: "node-3",
        startTimestamp: "2026-11-25T09:59:00Z",
        endTimestamp: "2026-11-25T10:00:00Z",
        completed: true,
      },
    });
    expect(line).toBe("  running on node-3 for 120m, phase Running");
  });

  it("since it started running when its last migration failed (it never left) or went elsewhere", async () => {
    const failed = {
      sourceNode: "node-3",
      targetNode: "node-1",
      endTimestamp: "2026-11-25T10:00:00Z",
      completed: false,
      failed: true,
    };
    expect(await runningLine({ migrationState: failed })).toBe("  running on node-3 for 9d, phase Running");
    expect(await runningLine({})).toBe("  running on node-3 for 9d, phase Running");
  });

  it("since its creation when it has no Running transition", async () => {
    expect(await runningLine({ phaseTransitionTimestamps: [] })).toBe(
      "  running on node-3 for 10d, phase Running",
    );
  });
});
