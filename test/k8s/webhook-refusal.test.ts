// An admission webhook's denial is the cluster's answer: exit 3 with KubeVirt's reason, whatever
// HTTP status carried it; the hint follows the kind of refusal.
import { afterEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../src/errors.js";
import { errorFromResponse, type RequestInfo } from "../../src/k8s/api-errors.js";
import { webhookDenial } from "../../src/k8s/webhook-refusal.js";
import { setConnectionFlags } from "../../src/util/shell.js";

afterEach(() => setConnectionFlags({}));

const migrate: RequestInfo = {
  method: "PUT",
  path: "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/db-1/migrate",
  server: "https://127.0.0.1:6443",
  context: "lab",
};
const createVmim: RequestInfo = {
  method: "POST",
  path: "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations",
  server: "https://127.0.0.1:6443",
  context: "lab",
};

function status(code: number, message: string, reason = ""): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code });
}

const notMigratable =
  'admission webhook "migration-create-validator.kubevirt.io" denied the request: Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: PVC data is not shared';

describe("a webhook's denial", () => {
  it.each([
    [400, "", notMigratable],
    [422, "Invalid", notMigratable],
    [500, "InternalError", `Internal error occurred: ${notMigratable}`],
    [403, "Forbidden", notMigratable],
  ])("HTTP %i: exit 3, KubeVirt's reason first, the webhook named", (code, reason, message) => {
    const error = errorFromResponse(code, status(code, message, reason), migrate);
    expect(error.exitCode).toBe(ExitCode.operationFailed);
    expect(error.message).toBe(
      "KubeVirt refused the request: Cannot migrate VMI, Reason: DisksNotLiveMigratable, Message: PVC data is not shared (admission webhook migration-create-validator.kubevirt.io)",
    );
    expect(error.hint).toBe(
      "KubeVirt says it cannot be live-migrated now; see why with: kvmig diagnose db-1 -n demo; a restart (kvmig restart db-1 -n demo) moves it, with downtime",
    );
  });

  it("a 401 is the credentials, never a webhook's", () => {
    const error = errorFromResponse(401, status(401, notMigratable, "Unauthorized"), migrate);
    expect(error.exitCode).toBe(ExitCode.unauthorized);
  });

  it("a migration already under way: follow it (with this run's connection flags)", () => {
    setConnectionFlags({ context: "prod" });
    const message =
      'admission webhook "migration-create-validator.kubevirt.io" denied the request: in-flight migration detected. Active migration job (abc) is currently already in progress for VMI db-1.';
    const error = errorFromResponse(400, status(400, message), migrate);
    expect(error.exitCode).toBe(3);
    expect(error.hint).toBe(
      "a migration of it is already under way; follow it with: kvmig watch db-1 -n demo --context prod",
    );
  });

  it("a finished or missing VMI: start the VM", () => {
    const message =
      'admission webhook "migration-create-validator.kubevirt.io" denied the request: Cannot migrate VMI in finalized state.';
    const error = errorFromResponse(400, status(400, message), migrate);
    expect(error.exitCode).toBe(3);
    expect(error.hint).toBe("its VMI is not running; start the VM with: virtctl start db-1 -n demo");
  });

  it("an unknown reason from an unknown webhook: the reason kept, the webhook named in the hint", () => {
    const message =
      'admission webhook "policy.example.com" denied the request: migrations are frozen until Monday';
    const error = errorFromResponse(400, status(400, message), createVmim);
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      "KubeVirt refused the request: migrations are frozen until Monday (admission webhook policy.example.com)",
    );
    expect(error.hint).toBe(
      "the webhook policy.example.com decides this; change what the reason names and run again",
    );
  });

  it("a denial without a reason says so", () => {
    expect(webhookDenial('admission webhook "w.example" denied the request')).toEqual({
      webhook: "w.example",
      reason: "",
    });
    const error = errorFromResponse(
      400,
      status(400, 'admission webhook "w.example" denied the request'),
      createVmim,
    );
    expect(error.message).toBe("KubeVirt refused the request: no reason given (admission webhook w.example)");
  });

  it("a plain invalid request is still a usage error (exit 2)", () => {
    const error = errorFromResponse(422, status(422, "spec.vmiName: Required value", "Invalid"), createVmim);
    expect(error.exitCode).toBe(ExitCode.usage);
  });
});
