// What `diagnose --from` keeps of each object as it reads a directory, before the VM to diagnose
// is chosen, so that a must-gather's thousands of other objects cost no memory: the kinds
// offline.ts sorts, and of them what it can use. Most of the rest is dropped before it is even
// parsed, from its kind and text: the YAML parser's garbage is what reading a large must-gather
// costs (it grows V8's young generation to over 100 MiB), and most of a must-gather is pods and
// events that no rule will read.

import type { Deployment, Pod } from "../k8s/types.js";
import { isHandlerPod } from "./evidence.js";
import type { LooseObject, ObjectFilter } from "./offline-manifests.js";
import { snapshotInfoKind } from "./snapshot-parts.js";

/** The kinds offline.ts reads, whichever VM is diagnosed. */
const keptKinds = new Set<string>([
  "VirtualMachine",
  "VirtualMachineInstance",
  "VirtualMachineInstanceMigration",
  "Event",
  "Node",
  "KubeVirt",
  "NetworkAttachmentDefinition",
  "NodeNetworkState",
  "MigrationPolicy",
  "Status",
  snapshotInfoKind,
]);

/**
 * Words in the text of every pod that may be a launcher or a handler, or be named like one: the
 * `kubevirt.io` labels and annotation that podBelongsByName and subjectPods look for, the
 * `kubevirt.io: virt-handler` label or `virt-handler-` name of isHandlerPod, and the
 * `virt-launcher-` name by which a log is told from a launcher's.
 */
const kubevirtPodWords = /kubevirt\.io|virt-handler|virt-launcher-/;

export function isVirtController(deployment: Deployment): boolean {
  return (
    deployment.metadata.name === "virt-controller" ||
    deployment.metadata.labels?.["kubevirt.io"] === "virt-controller"
  );
}

/**
 * A pod that KubeVirt has no hand in (no `kubevirt.io` label or annotation, not a virt-handler) is
 * never a launcher or handler pod: of it only its name is used, to tell its logs from a
 * launcher's, and only when it looks like a launcher's; and that pods were saved at all. With the
 * VM named, an event is read only when it may be about the VM (eventsAbout, and chooseSubject and
 * inferNamespace, which look for its name): about an object of its name, a migration, or a pod.
 */
export class ObjectKeeper implements ObjectFilter {
  /** Events dropped: they tell that events were saved. */
  otherEvents = 0;
  /** Pods dropped unparsed: they tell that pods were saved. */
  otherPods = 0;

  constructor(private readonly vmName: string | undefined) {}

  skip(kind: string, text: string): boolean {
    switch (kind) {
      case "Pod":
        if (kubevirtPodWords.test(text)) return false;
        this.otherPods++;
        return true;
      case "Event": {
        const name = this.vmName;
        if (
          name === undefined ||
          [name, "VirtualMachineInstanceMigration", "Pod"].some((w) => text.includes(w))
        ) {
          return false;
        }
        this.otherEvents++;
        return true;
      }
      case "Deployment":
        return !text.includes("virt-controller");
      default:
        // A list inside a list may hold anything.
        return !keptKinds.has(kind) && !kind.endsWith("List");
    }
  }

  keep(object: LooseObject): LooseObject | undefined {
    if (object.kind === "Event" && !this.mayConcernVm(object)) {
      this.otherEvents++;
      return undefined;
    }
    if (keptKinds.has(object.kind ?? "")) return object;
    if (object.kind === "Deployment") {
      return isVirtController(object as unknown as Deployment) ? object : undefined;
    }
    if (object.kind !== "Pod") return undefined;
    const pod = object as unknown as Pod;
    const keys = [...Object.keys(pod.metadata.labels ?? {}), ...Object.keys(pod.metadata.annotations ?? {})];
    if (isHandlerPod(pod) || keys.some((key) => key.includes("kubevirt.io"))) return object;
    const { name, namespace, uid, creationTimestamp } = pod.metadata;
    return {
      apiVersion: object.apiVersion,
      kind: "Pod",
      metadata: { name, namespace, uid, creationTimestamp },
    };
  }

  private mayConcernVm(event: LooseObject): boolean {
    if (this.vmName === undefined) return true;
    // events.k8s.io calls it `regarding`.
    const about = event.involvedObject ?? event.regarding;
    if (about === null || typeof about !== "object") return false;
    const { kind, name } = about as { kind?: unknown; name?: unknown };
    return name === this.vmName || kind === "VirtualMachineInstanceMigration" || kind === "Pod";
  }
}
