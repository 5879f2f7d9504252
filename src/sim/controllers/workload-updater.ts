// virt-controller's workload updater (facts §j; `pkg/virt-controller/watch/workload-updater/
// workload-updater.go`, v1.9): once an upgrade is deployed, it counts the VMIs still on an
// outdated virt-launcher into the KubeVirt CR's status. Of the outdated VMIs that are neither
// migrating nor named by an unfinished migration, those that are live-migratable are migrated
// when the CR's `workloadUpdateMethods` lists LiveMigrate (`kubevirt-workload-update-`
// migrations, as many as the cluster's free migration slots, shuffled); the others are evicted
// when it lists Evict: at most `batchEvictionSize` (10) per `batchEvictionInterval` (1m), each
// a policy Eviction of the VMI's current launcher pod. The eviction webhook (eviction.ts) then
// decides as for a drain: a VMI whose strategy migrates on eviction is marked and the
// evacuation controller migrates it; with None (or LiveMigrateIfPossible on a VMI that cannot
// migrate) the pod goes and the VM controller starts the VMI again on the current launcher; a
// LiveMigrate VMI that cannot migrate is refused, and the refusal is the FailedEvict event.
// Events come from `workload-update-controller` (`watch/application.go`). KubeVirt requeues
// itself at once while work remains; the simulator passes on every change and every 30 s, and
// at the next eviction batch when evictions wait for it.

import type { SimObject } from "../store.js";
import { isFinalPhase, vmiNameLabel } from "./admission.js";
import { currentLauncherImage, findKubeVirt, migrationConfig } from "./config.js";
import { isMigrating } from "./evacuation.js";
import { evictPod, isMigratable } from "./eviction.js";
import { type ControllerRuntime, createControllerMigration, dig, R, str } from "./runtime.js";

export const workloadUpdateAnnotation = "kubevirt.io/workloadUpdateMigration";
const passEveryMs = 30_000;
const source = { component: "workload-update-controller" } as const;
const runningPhases = new Set(["Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"]);
const defaultBatchEvictionSize = 10;
const defaultBatchEvictionIntervalMs = 60_000;

/** A Go duration (`1m0s`, `90s`, `1h30m`, `500ms`) in ms; undefined when unreadable. */
function durationMs(text: unknown): number | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, ns: 0.000001 };
  let total = 0;
  let rest = text;
  while (rest !== "") {
    const part = /^(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/.exec(rest);
    if (!part) return undefined;
    total += Number(part[1]) * (units[part[2] ?? ""] ?? 0);
    rest = rest.slice(part[0].length);
  }
  return total;
}

export class WorkloadUpdater {
  private timerSet = false;
  /** The sorted keys `outdatedVmis` reads, with the index version and the image they are for. */
  private outdatedKeys: { version: number; image: string; keys: string[] } | undefined;
  /** When the last batch of evictions went out (simulated ms). */
  private lastEvictionBatch = Number.NEGATIVE_INFINITY;

  constructor(private readonly rt: ControllerRuntime) {
    rt.onChange((change) => {
      const watched = [R.kubevirt.storage, R.vmi.storage, R.vmim.storage, R.deployment.storage];
      if (watched.includes(change.storage)) this.enqueue();
    });
  }

  private enqueue(afterMs?: number): void {
    if (afterMs === undefined) {
      this.rt.enqueue("workload-updater", () => this.pass());
      return;
    }
    if (this.timerSet) return;
    this.timerSet = true;
    this.rt.later(afterMs, "workload-updater", () => {
      this.timerSet = false;
      this.pass();
    });
  }

  private deployed(kubevirt: SimObject): boolean {
    const status = (kubevirt.status ?? {}) as Record<string, unknown>;
    return status.phase === "Deployed" && status.observedDeploymentID === status.targetDeploymentID;
  }

  private outdated(vmi: SimObject, image: string): boolean {
    if (vmi.metadata.deletionTimestamp || str(vmi, "status", "phase") !== "Running") return false;
    const running = str(vmi, "status", "launcherContainerImageVersion");
    return running !== undefined && running !== "" && running !== image;
  }

  /**
   * How many VMIs are outdated, from the index of VMIs by launcher image (each Running VMI not
   * being deleted weighs 1) rather than a read of every VMI: this pass follows every VMI change,
   * and at 50,000 VMs a scan each time was a stall.
   */
  private outdatedCount(image: string): number {
    let count = 0;
    for (const [running] of this.rt.vmisByLauncherImage.values()) {
      if (running !== image && running !== "") count += this.rt.vmisByLauncherImage.total(running);
    }
    return count;
  }

  /**
   * The outdated VMIs, in the store's order, from the same index: the keys of the VMIs on other
   * launcher images, sorted once per change of the index (a VMI's image or phase), not per pass.
   */
  private outdatedVmis(image: string): SimObject[] {
    const index = this.rt.vmisByLauncherImage;
    if (this.outdatedKeys?.version !== index.version || this.outdatedKeys.image !== image) {
      const keys: string[] = [];
      for (const [running, members] of index.values()) {
        if (running === image || running === "") continue;
        for (const key of members) keys.push(key);
      }
      this.outdatedKeys = { version: index.version, image, keys: keys.sort() };
    }
    const out: SimObject[] = [];
    for (const key of this.outdatedKeys.keys) {
      const vmi = this.rt.store.peekKey(R.vmi.storage, key);
      if (vmi && this.outdated(vmi, image)) out.push(vmi);
    }
    return out;
  }

  private pass(): void {
    const kubevirt = findKubeVirt(this.rt);
    const image = currentLauncherImage(this.rt);
    if (!kubevirt || !image || !this.deployed(kubevirt)) return;
    const count = this.outdatedCount(image);
    if (dig(kubevirt, "status", "outdatedVirtualMachineInstanceWorkloads") !== count) {
      this.rt.mutate(
        R.kubevirt,
        kubevirt.metadata.namespace,
        kubevirt.metadata.name ?? "",
        (o) => {
          (o.status as Record<string, unknown>).outdatedVirtualMachineInstanceWorkloads = count;
        },
        "status",
      );
    }
    const strategy = (dig(kubevirt, "spec", "workloadUpdateStrategy") ?? {}) as {
      workloadUpdateMethods?: string[];
      batchEvictionSize?: number;
      batchEvictionInterval?: string;
    };
    const methods = strategy.workloadUpdateMethods ?? [];
    const migrateAllowed = methods.includes("LiveMigrate");
    const evictAllowed = methods.includes("Evict");
    if (count === 0 || (!migrateAllowed && !evictAllowed)) return;
    const outdated = this.outdatedVmis(image);
    const migrations = this.rt.list(R.vmim);
    const busy = new Set(
      migrations
        .filter((m) => !isFinalPhase(str(m, "status", "phase")))
        .map(
          (m) => `${m.metadata.namespace}/${m.metadata.labels?.[vmiNameLabel] ?? str(m, "spec", "vmiName")}`,
        ),
    );
    const now = this.rt.now();
    const toMigrate: SimObject[] = [];
    const toEvict: SimObject[] = [];
    for (const vmi of outdated) {
      // Counted as outdated, but nothing is done to a VMI that is migrating or about to.
      if (isMigrating(vmi, now) || busy.has(`${vmi.metadata.namespace}/${vmi.metadata.name}`)) continue;
      if (migrateAllowed && isMigratable(vmi)) toMigrate.push(vmi);
      else if (evictAllowed) toEvict.push(vmi);
    }
    const running = migrations.filter((m) => runningPhases.has(str(m, "status", "phase") ?? "")).length;
    let slots = migrationConfig(this.rt).parallelMigrationsPerCluster - running;
    // KubeVirt shuffles the candidates, so one stubborn VMI does not starve the rest.
    for (let i = toMigrate.length - 1; i > 0; i--) {
      const j = this.rt.random.int(0, i);
      [toMigrate[i], toMigrate[j]] = [toMigrate[j] as SimObject, toMigrate[i] as SimObject];
    }
    for (const vmi of toMigrate) {
      if (slots <= 0) break;
      try {
        const created = createControllerMigration(this.rt, vmi, "kubevirt-workload-update-", {
          [workloadUpdateAnnotation]: "",
        });
        slots -= 1;
        this.rt.event(
          vmi,
          "Normal",
          "SuccessfulCreate",
          `Created Migration ${created.metadata.name} for automated workload update`,
          source,
        );
      } catch (error) {
        this.rt.event(
          vmi,
          "Warning",
          "FailedCreate",
          `Error creating a Migration for automated workload update: ${(error as Error).message}`,
          source,
        );
      }
    }
    const batchSize = strategy.batchEvictionSize ?? defaultBatchEvictionSize;
    const intervalMs = durationMs(strategy.batchEvictionInterval) ?? defaultBatchEvictionIntervalMs;
    const nextBatch = this.lastEvictionBatch + intervalMs;
    if (toEvict.length > 0 && now >= nextBatch) {
      this.lastEvictionBatch = now;
      for (const vmi of toEvict.slice(0, batchSize)) this.evict(vmi);
    }
    if (toMigrate.length === 0 && toEvict.length === 0) return;
    const untilBatch = this.lastEvictionBatch + intervalMs - now;
    this.enqueue(toEvict.length > 0 ? Math.max(1, Math.min(passEveryMs, untilBatch)) : passEveryMs);
  }

  /** The Eviction of the VMI's current launcher pod (the newest on its node); its outcome as an event. */
  private evict(vmi: SimObject): void {
    const node = str(vmi, "status", "nodeName");
    const pod = this.rt
      .podsOf(vmi.metadata.uid)
      .filter((p) => !node || str(p, "spec", "nodeName") === node)
      .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
      .at(-1);
    if (!pod) return;
    try {
      evictPod(this.rt, pod);
      this.rt.event(
        vmi,
        "Normal",
        "SuccessfulEvict",
        "Initiated eviction of VMI as part of automated workload update: <nil>",
        source,
      );
    } catch (error) {
      this.rt.event(
        vmi,
        "Warning",
        "FailedEvict",
        `Error deleting VMI during automated workload update: ${(error as Error).message}`,
        source,
      );
    }
  }
}
