// KubeVirt's admission webhooks for migrations (facts §c): the mutating webhook adds the
// `kubevirt.io/vmi-name` label and the `kubevirt.io/migrationJobFinalize` finalizer; the
// validating webhook rejects a migration of a missing or final VMI, of one that is not live
// migratable, of one with another migration unfinished, and one with a user-set priority.

import type { StatusCause } from "../../k8s/meta.js";
import { statusError } from "../status.js";
import type { AdmissionRequest, SimObject, Store } from "../store.js";
import { controllerUser, dig, R, str } from "./runtime.js";

export const vmiNameLabel = "kubevirt.io/vmi-name";
export const migrationFinalizer = "kubevirt.io/migrationJobFinalize";
const createValidator = "migration-create-validator.kubevirt.io";
const updateValidator = "migration-update-validator.kubevirt.io";

/** A webhook's denial with field causes (KubeVirt's ToAdmissionResponse): 422 Invalid. */
function denied(webhook: string, causes: StatusCause[]): Error {
  const message = causes.map((c) => c.message).join(", ");
  return statusError(422, "Invalid", `admission webhook "${webhook}" denied the request: ${message}`, {
    causes,
  });
}

/**
 * A webhook's denial from a plain error (KubeVirt's ToAdmissionResponseError): 400 with no
 * reason, which kubectl prints as `Error from server: admission webhook ... denied the request: ...`.
 */
function refused(webhook: string, message: string): Error {
  const error = statusError(400, "", `admission webhook "${webhook}" denied the request: ${message}`);
  delete (error.status as { reason?: string }).reason;
  return error;
}

export function isFinalPhase(phase: unknown): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

function validateCreate(store: Store, migration: SimObject, user: string | undefined): void {
  const namespace = migration.metadata.namespace ?? "";
  const vmiName = str(migration, "spec", "vmiName") ?? "";
  if (vmiName === "")
    throw denied(createValidator, [
      { reason: "FieldValueRequired", field: "spec.vmiName", message: "vmiName is missing" },
    ]);
  if (dig(migration, "spec", "priority") !== undefined && user !== controllerUser) {
    throw denied(createValidator, [
      {
        reason: "FieldValueForbidden",
        field: "spec.migrationPriority",
        message: "Migration priority queue, only virt-controller is allowed to set priority field",
      },
    ]);
  }
  const vmi = store.peek(R.vmi.storage, namespace, vmiName);
  if (!vmi) {
    throw refused(createValidator, `the VMI "${namespace}/${vmiName}" does not exist`);
  }
  const phase = str(vmi, "status", "phase");
  if (phase === "Succeeded" || phase === "Failed") {
    throw refused(createValidator, "Cannot migrate VMI in finalized state.");
  }
  const conditions = (dig(vmi, "status", "conditions") ?? []) as {
    type: string;
    status: string;
    reason?: string;
    message?: string;
  }[];
  const migratable = conditions.find((c) => c.type === "LiveMigratable");
  if (migratable?.status === "False") {
    throw refused(
      createValidator,
      `Cannot migrate VMI, Reason: ${migratable.reason ?? ""}, Message: ${migratable.message ?? ""}`,
    );
  }
  for (const other of store.list(R.vmim.storage, namespace)) {
    if (other.metadata.labels?.[vmiNameLabel] !== vmiName) continue;
    if (isFinalPhase(str(other, "status", "phase"))) continue;
    throw refused(
      createValidator,
      `in-flight migration detected. Active migration job (${other.metadata.uid}) is currently already in progress for VMI ${vmiName}.`,
    );
  }
}

function validateUpdate(migration: SimObject, old: SimObject): void {
  if (JSON.stringify(migration.spec) !== JSON.stringify(old.spec)) {
    throw denied(updateValidator, [
      {
        reason: "FieldValueInvalid",
        field: "spec",
        message: "update of Migration object's spec is restricted",
      },
    ]);
  }
  const label = old.metadata.labels?.[vmiNameLabel];
  if (
    label !== undefined &&
    !isFinalPhase(str(old, "status", "phase")) &&
    migration.metadata.labels?.[vmiNameLabel] !== label
  ) {
    throw denied(updateValidator, [
      {
        reason: "FieldValueInvalid",
        field: "metadata.labels",
        message: `selector label ${vmiNameLabel} can't be modified on an in-flight migration`,
      },
    ]);
  }
}

export function kubevirtAdmission(store: Store) {
  return (request: AdmissionRequest): void => {
    if (request.res !== R.vmim && request.res.storage !== R.vmim.storage) return;
    const migration = request.object;
    if (request.operation === "CREATE") {
      validateCreate(store, migration, request.user);
      const vmiName = str(migration, "spec", "vmiName") ?? "";
      migration.metadata.labels = { ...migration.metadata.labels, [vmiNameLabel]: vmiName };
      const finalizers = migration.metadata.finalizers ?? [];
      if (!finalizers.includes(migrationFinalizer))
        migration.metadata.finalizers = [...finalizers, migrationFinalizer];
    } else if (request.old) {
      validateUpdate(migration, request.old);
    }
  };
}
