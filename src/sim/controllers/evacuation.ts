// The evacuation controller (facts §e, §g): a VMI marked for evacuation (`status.evacuationNodeName`,
// set by the eviction webhook during a drain) or running on a node with the drain taint gets a
// `kubevirt-evacuation-` migration whenever it has no unfinished one; failed attempts are what
// the migration controller's backoff then spaces out.

import type { SimObject } from "../store.js";
import { isFinalPhase, vmiNameLabel } from "./admission.js";
import { migrationConfig } from "./config.js";
import { type ControllerRuntime, createControllerMigration, dig, R, str } from "./runtime.js";

export const evacuationAnnotation = "kubevirt.io/evacuationMigration";
const source = { component: "virtualmachine-controller" } as const;

function drainTainted(node: SimObject | undefined, key: string): boolean {
  const taints = (dig(node, "spec", "taints") ?? []) as { key: string; effect: string }[];
  return taints.some((t) => t.key === key && t.effect === "NoSchedule");
}

export class EvacuationController {
  constructor(private readonly rt: ControllerRuntime) {
    rt.onChange((change) => {
      const object = change.object;
      if (change.storage === R.vmi.storage && change.type !== "DELETED") {
        this.enqueue(object.metadata.namespace ?? "", object.metadata.name ?? "");
      }
      if (change.storage === R.vmim.storage) {
        const vmi = str(object, "spec", "vmiName");
        if (vmi) this.enqueue(object.metadata.namespace ?? "", vmi);
      }
      if (change.storage === R.node.storage) {
        for (const vmi of rt.list(R.vmi)) {
          if (str(vmi, "status", "nodeName") === object.metadata.name) {
            this.enqueue(vmi.metadata.namespace ?? "", vmi.metadata.name ?? "");
          }
        }
      }
    });
  }

  private enqueue(namespace: string, name: string): void {
    this.rt.enqueue(`evacuation:${namespace}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string, name: string): void {
    const vmi = this.rt.peek(R.vmi, namespace, name);
    if (!vmi || vmi.metadata.deletionTimestamp || str(vmi, "status", "phase") !== "Running") return;
    const nodeName = str(vmi, "status", "nodeName");
    const marked = str(vmi, "status", "evacuationNodeName");
    const node = nodeName ? this.rt.peek(R.node, undefined, nodeName) : undefined;
    const evacuate =
      marked ?? (drainTainted(node, migrationConfig(this.rt).nodeDrainTaintKey) ? nodeName : undefined);
    if (!evacuate || evacuate !== nodeName) return;
    const conditions = (dig(vmi, "status", "conditions") ?? []) as { type: string; status: string }[];
    if (conditions.some((c) => c.type === "LiveMigratable" && c.status === "False")) return;
    const unfinished = this.rt
      .list(R.vmim, namespace)
      .some((m) => m.metadata.labels?.[vmiNameLabel] === name && !isFinalPhase(str(m, "status", "phase")));
    if (unfinished) return;
    try {
      const created = createControllerMigration(this.rt, vmi, "kubevirt-evacuation-", {
        [evacuationAnnotation]: evacuate,
      });
      this.rt.event(vmi, "Normal", "SuccessfulCreate", `Created Migration ${created.metadata.name}`, source);
    } catch (error) {
      this.rt.event(
        vmi,
        "Warning",
        "FailedCreate",
        `Error creating a Migration: ${(error as Error).message}`,
        source,
      );
    }
  }
}
