// The simulated cluster's behaviour: KubeVirt's webhooks, virt-api, virt-controller and
// virt-handler, and the scheduler and kubelet of the pods they create.

import type { LogStore } from "../logs.js";
import type { MigrationStat } from "../prometheus.js";
import type { Random } from "../random.js";
import type { KubevirtActions } from "../server.js";
import type { SimObject, Store } from "../store.js";
import type { SimTime } from "../time.js";
import { kubevirtAdmission } from "./admission.js";
import { EvacuationController } from "./evacuation.js";
import { evictionWebhook } from "./eviction.js";
import { type FaultSpec, Faults } from "./faults.js";
import { VirtHandler } from "./handler.js";
import { LifecycleControllers } from "./lifecycle.js";
import { MigrationController } from "./migration.js";
import { installPodControllers } from "./pods.js";
import { ControllerRuntime } from "./runtime.js";

export type { ControllerRuntime };

import { virtApi } from "./virt-api.js";
import { WorkloadUpdater } from "./workload-updater.js";

export type { FaultSpec };

export interface Controllers {
  readonly runtime: ControllerRuntime;
  readonly actions: KubevirtActions | undefined;
  readonly evictionWebhook: ((pod: SimObject, dryRun: boolean, eviction: unknown) => void) | undefined;
  /** The migration gauges virt-handler would export now. */
  migrationStats(): MigrationStat[];
  stop(): void;
}

export function installControllers(options: {
  /** False: no webhooks and no controllers, and virt-api answers 503 (the API server alone). */
  enabled?: boolean;
  store: Store;
  logs: LogStore;
  time: SimTime;
  random: Random;
  faults?: readonly FaultSpec[] | undefined;
  log?: ((line: string) => void) | undefined;
}): Controllers {
  const runtime = new ControllerRuntime(
    options.store,
    options.logs,
    options.time,
    options.random,
    options.log,
  );
  if (options.enabled === false) {
    return {
      runtime,
      actions: undefined,
      evictionWebhook: undefined,
      migrationStats: () => [],
      stop: () => runtime.stop(),
    };
  }
  options.store.setAdmission(kubevirtAdmission(options.store));
  installPodControllers(runtime);
  new MigrationController(runtime);
  runtime.faults = new Faults(options.faults ?? []);
  const handler = new VirtHandler(runtime, runtime.faults);
  new LifecycleControllers(runtime);
  new EvacuationController(runtime);
  new WorkloadUpdater(runtime);
  runtime.replay();
  return {
    runtime,
    actions: virtApi(runtime),
    evictionWebhook: evictionWebhook(runtime),
    migrationStats: () => handler.migrationStats(),
    stop: () => {
      runtime.stop();
      options.store.setAdmission(undefined);
    },
  };
}
