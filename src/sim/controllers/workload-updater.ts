// virt-controller's workload updater (facts §j): once an upgrade is deployed, it counts the VMIs
// still on an outdated virt-launcher into the KubeVirt CR's status and, when the CR's
// `workloadUpdateMethods` lists LiveMigrate, starts `kubevirt-workload-update-` migrations for
// the live-migratable ones, as many as the cluster's free migration slots, every 30 s.

import type { SimObject } from "../store.js";
import { isFinalPhase, vmiNameLabel } from "./admission.js";
import { currentLauncherImage, findKubeVirt, migrationConfig } from "./config.js";
import { type ControllerRuntime, createControllerMigration, dig, R, str } from "./runtime.js";

export const workloadUpdateAnnotation = "kubevirt.io/workloadUpdateMigration";
const passEveryMs = 30_000;
const source = { component: "virtualmachine-controller" } as const;
const runningPhases = new Set(["Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running"]);

export class WorkloadUpdater {
  private timerSet = false;

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

  private pass(): void {
    const kubevirt = findKubeVirt(this.rt);
    const image = currentLauncherImage(this.rt);
    if (!kubevirt || !image || !this.deployed(kubevirt)) return;
    const outdated = this.rt.list(R.vmi).filter((vmi) => this.outdated(vmi, image));
    if (dig(kubevirt, "status", "outdatedVirtualMachineInstanceWorkloads") !== outdated.length) {
      this.rt.mutate(
        R.kubevirt,
        kubevirt.metadata.namespace,
        kubevirt.metadata.name ?? "",
        (o) => {
          (o.status as Record<string, unknown>).outdatedVirtualMachineInstanceWorkloads = outdated.length;
        },
        "status",
      );
    }
    const methods = (dig(kubevirt, "spec", "workloadUpdateStrategy", "workloadUpdateMethods") ??
      []) as string[];
    if (outdated.length === 0 || !methods.includes("LiveMigrate")) return;
    const migrations = this.rt.list(R.vmim);
    const busy = new Set(
      migrations
        .filter((m) => !isFinalPhase(str(m, "status", "phase")))
        .map(
          (m) => `${m.metadata.namespace}/${m.metadata.labels?.[vmiNameLabel] ?? str(m, "spec", "vmiName")}`,
        ),
    );
    const running = migrations.filter((m) => runningPhases.has(str(m, "status", "phase") ?? "")).length;
    let slots = migrationConfig(this.rt).parallelMigrationsPerCluster - running;
    const candidates = outdated.filter((vmi) => {
      const conditions = (dig(vmi, "status", "conditions") ?? []) as { type: string; status: string }[];
      const migratable = conditions.some((c) => c.type === "LiveMigratable" && c.status === "True");
      return migratable && !busy.has(`${vmi.metadata.namespace}/${vmi.metadata.name}`);
    });
    // KubeVirt shuffles the candidates, so one stubborn VMI does not starve the rest.
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = this.rt.random.int(0, i);
      [candidates[i], candidates[j]] = [candidates[j] as SimObject, candidates[i] as SimObject];
    }
    for (const vmi of candidates) {
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
    this.enqueue(passEveryMs);
  }
}
