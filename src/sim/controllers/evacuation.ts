// The evacuation controller, as v1.9 has it (`pkg/virt-controller/watch/drain/evacuation/
// evacuation.go`; facts §e, §g). The VMIs it looks at on a node: all of them when the node
// carries the drain taint (`nodeDrainTaintKey`, effect NoSchedule; the deprecated path), else
// those marked for evacuation from it (`status.evacuationNodeName` == `status.nodeName`, set by
// the eviction webhook during a drain) that are not migrating (`migrationState` started and not
// ended). Of those, a VMI gets a `kubevirt-evacuation-` migration only when
//   - it is not final and not being deleted;
//   - its eviction strategy migrates on eviction (VMIMigratableOnEviction, `pkg/util/migrations/
//     migrations.go`): LiveMigrate, or LiveMigrateIfPossible on a migratable VMI. External VMIs
//     are marked but left to an external controller; None is left alone;
//   - its `LiveMigratable` condition is True;
//   - no unfinished migration names it (`spec.vmiName`);
//   - at most one of its launcher pods is still active (VMIActivePodsCount, `pkg/controller/
//     controller.go`): the pods of an earlier migration must have finished.
// All candidates get their migration at once (v1.9: no cap; the migration controller queues
// them), with priority `system-critical`, or `system-maintenance` when the descheduler asked
// (`kubevirt.io/eviction-source: descheduler`). Failed attempts are retried at the next sync,
// spaced by the migration controller's backoff. Events come from `evacuation-controller`
// (`pkg/virt-controller/watch/application.go`). The VMI controller's part (`watch/vmi/
// lifecycle.go`, v1.7+): a marked VMI has the condition EvictionRequested=True.

import type { SimObject } from "../store.js";
import { isFinalPhase } from "./admission.js";
import { migrationConfig } from "./config.js";
import { evictionSourceAnnotation, isMigratable, migratesOnEviction } from "./eviction.js";
import {
  type ControllerRuntime,
  createControllerMigration,
  dig,
  R,
  str,
  touchesSpecStatusOrLabels,
} from "./runtime.js";

export const evacuationAnnotation = "kubevirt.io/evacuationMigration";
const source = { component: "evacuation-controller" } as const;
const evictionRequested = "EvictionRequested";

function drainTainted(node: SimObject | undefined, key: string): boolean {
  const taints = (dig(node, "spec", "taints") ?? []) as { key: string; effect: string }[];
  return taints.some((t) => t.key === key && t.effect === "NoSchedule");
}

/** `migrations.IsMigrating`: a migration started and has not ended (by the simulated clock). */
export function isMigrating(vmi: SimObject, now: number): boolean {
  const start = Date.parse(str(vmi, "status", "migrationState", "startTimestamp") ?? "");
  const end = Date.parse(str(vmi, "status", "migrationState", "endTimestamp") ?? "");
  return !Number.isNaN(start) && start <= now && !(!Number.isNaN(end) && end <= now);
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
      // A launcher pod that ends may be what a VMI with two active pods waits for.
      if (change.storage === R.pod.storage) {
        const vmi = object.metadata.annotations?.["kubevirt.io/domain"];
        if (vmi) this.enqueue(object.metadata.namespace ?? "", vmi);
      }
      // A node's taints are in its spec: a heartbeat (an annotation) changes nothing here. The
      // node's VMIs come from the index, as the controller's VMI informer indexes them by node.
      if (change.storage === R.node.storage && touchesSpecStatusOrLabels(change)) {
        for (const vmi of rt.vmisByNode.objects(object.metadata.name)) {
          this.enqueue(vmi.metadata.namespace ?? "", vmi.metadata.name ?? "");
        }
      }
    });
  }

  private enqueue(namespace: string, name: string): void {
    this.rt.enqueue(`evacuation:${namespace}/${name}`, () => this.sync(namespace, name));
  }

  private sync(namespace: string, name: string): void {
    const vmi = this.rt.peek(R.vmi, namespace, name);
    if (!vmi || vmi.metadata.deletionTimestamp) return;
    this.evictionCondition(vmi);
    if (isFinalPhase(str(vmi, "status", "phase"))) return;
    const nodeName = str(vmi, "status", "nodeName");
    const node = nodeName ? this.rt.peek(R.node, undefined, nodeName) : undefined;
    if (!nodeName || !node) return;
    const marked = str(vmi, "status", "evacuationNodeName");
    const tainted = drainTainted(node, migrationConfig(this.rt).nodeDrainTaintKey);
    if (!tainted && !(marked && marked === nodeName && !isMigrating(vmi, this.rt.now()))) return;
    if (!migratesOnEviction(this.rt, vmi) || !isMigratable(vmi)) return;
    const unfinished = this.rt
      .list(R.vmim, namespace)
      .some((m) => str(m, "spec", "vmiName") === name && !isFinalPhase(str(m, "status", "phase")));
    if (unfinished) return;
    const active = this.rt.podsOf(vmi.metadata.uid).filter((p) => !isFinalPhase(str(p, "status", "phase")));
    if (active.length > 1) return;
    const priority =
      vmi.metadata.annotations?.[evictionSourceAnnotation] === "descheduler"
        ? "system-maintenance"
        : undefined;
    try {
      const created = createControllerMigration(
        this.rt,
        vmi,
        "kubevirt-evacuation-",
        { [evacuationAnnotation]: nodeName },
        priority,
      );
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

  /** EvictionRequested=True while the VMI is marked, gone once it is not (`watch/vmi/lifecycle.go`). */
  private evictionCondition(vmi: SimObject): void {
    const conditions = (dig(vmi, "status", "conditions") ?? []) as { type: string; status: string }[];
    const has = conditions.some((c) => c.type === evictionRequested && c.status === "True");
    const marked = !!str(vmi, "status", "evacuationNodeName");
    if (has === marked) return;
    const now = this.rt.stamp();
    this.rt.mutate(R.vmi, vmi.metadata.namespace, vmi.metadata.name ?? "", (o) => {
      const status = o.status as Record<string, unknown>;
      const rest = ((status.conditions ?? []) as { type: string }[]).filter(
        (c) => c.type !== evictionRequested,
      );
      if (marked) {
        rest.push({
          type: evictionRequested,
          status: "True",
          reason: evictionRequested,
          message: "VMI is marked for eviction",
          lastProbeTime: now,
          lastTransitionTime: now,
        } as { type: string });
      }
      status.conditions = rest;
    });
  }
}
