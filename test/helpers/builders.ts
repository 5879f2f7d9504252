// Small builders for hand-made diagnose snapshots (the *.reasoning.test.ts files): each returns
// a minimal, valid object that a test overrides where the case needs it.

import type { Snapshot } from "../../src/diagnose/types.js";
import type {
  Event,
  Pod,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
  VirtualMachineInstanceMigrationState,
} from "../../src/k8s/types.js";
import { emptySnapshot } from "./diagnose.js";

export const ns = "demo";
export const vmName = "db-1";
export const vmiUid = "aaaaaaaa-0000-4000-8000-000000000001";
export const takenAt = "2025-03-01T12:00:00Z";

/** `takenAt` minus some seconds, as RFC 3339. */
export function ago(seconds: number): string {
  return new Date(Date.parse(takenAt) - seconds * 1000).toISOString().replace(".000Z", "Z");
}

export function vmi(
  status: VirtualMachineInstance["status"] = { phase: "Running" },
  spec: VirtualMachineInstance["spec"] = {},
): VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name: vmName, namespace: ns, uid: vmiUid },
    spec,
    status,
  };
}

export interface MigrationParts {
  name?: string;
  uid?: string;
  phase?: string;
  created?: string;
  state?: VirtualMachineInstanceMigrationState;
  annotations?: Record<string, string>;
  transitions?: Record<string, string>;
  conditions?: unknown[];
}

export function migration(parts: MigrationParts = {}): VirtualMachineInstanceMigration {
  const status: Record<string, unknown> = {};
  if (parts.phase !== undefined) status.phase = parts.phase;
  if (parts.state) status.migrationState = parts.state;
  if (parts.conditions) status.conditions = parts.conditions;
  if (parts.transitions) {
    status.phaseTransitionTimestamps = Object.entries(parts.transitions).map(([phase, time]) => ({
      phase,
      phaseTransitionTimestamp: time,
    }));
  }
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: parts.name ?? "kubevirt-migrate-vm-abcde",
      namespace: ns,
      uid: parts.uid ?? "bbbbbbbb-0000-4000-8000-000000000001",
      creationTimestamp: parts.created ?? ago(600),
      ...(parts.annotations ? { annotations: parts.annotations } : {}),
    },
    spec: { vmiName: vmName },
    status: status as VirtualMachineInstanceMigration["status"],
  };
}

export function event(parts: Partial<Event> & { kind?: string; name?: string }): Event {
  const { kind, name, ...rest } = parts;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${name ?? vmName}.${Math.random().toString(16).slice(2, 8)}`, namespace: ns },
    involvedObject: { kind: kind ?? "VirtualMachineInstance", name: name ?? vmName, namespace: ns },
    type: "Warning",
    lastTimestamp: ago(60),
    ...rest,
  };
}

export function pod(name: string, parts: Partial<Pod> & { labels?: Record<string, string> } = {}): Pod {
  const { labels, ...rest } = parts;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, creationTimestamp: ago(600), labels: labels ?? {} },
    spec: { containers: [{ name: "compute", image: "quay.io/kubevirt/virt-launcher:v1.5.0" }] },
    status: { phase: "Running" },
    ...rest,
  };
}

export function snap(parts: Partial<Snapshot> = {}): Snapshot {
  return emptySnapshot({ source: "live", takenAt, namespace: ns, vmName, ...parts });
}
