// The server's restart refusals (facts §a, RestartVMRequestHandler) keep its words; each gets
// the hint that fits it and the exit code of a failed operation.
import { describe, expect, it } from "vitest";
import { restartRefusal } from "../../src/commands/restart.js";
import { ApiError, ExitCode, type KvmigError } from "../../src/errors.js";

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
