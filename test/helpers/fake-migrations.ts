// A small cluster of running VMs behind the strict fake KubeClient, for the bulk runner's tests:
// the calls a migration job makes (list the VMI's migrations, the migrate subresource, watches on
// the VMIM, the VMI and events, the VMI read afterwards) and a restart job's (the VMI, its watch,
// the restart subresource). A started migration runs until the test ends it (finish), or at once
// with `autoFinish`; a restart replaces the VMI at once. It counts how many migrations ran at the
// same time. Any other call fails the test (fake-kube.ts).
import type { WatchUpdate } from "../../src/k8s/kube-client.js";
import type {
  KubeVirt,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../../src/k8s/types.js";
import { type FakeKube, fakeKube } from "./fake-kube.js";

export const oldImage = "quay.io/kubevirt/virt-launcher:v1.8.2";
export const currentImage = "quay.io/kubevirt/virt-launcher:v1.9.0";

export interface FakeMigrationsOptions {
  namespace?: string;
  /** The VMs, each running on node-1 on the old launcher. */
  vms: readonly string[];
  /** KubeVirt's parallelMigrationsPerCluster (the CR's default when absent). */
  parallelMigrationsPerCluster?: number;
  /** Unfinished migrations of other VMs, taking slots. */
  busy?: number;
  /** How a migration ends as soon as it starts; without, it runs until finish(). */
  autoFinish?: (vm: string) => "Succeeded" | "Failed" | undefined;
  /** The migrate subresource refuses this VM with this error. */
  refuse?: (vm: string) => Error | undefined;
}

interface Subscriber {
  key: string;
  push(update: WatchUpdate<never>): void;
}

export interface FakeMigrations {
  kube: FakeKube;
  kubevirt: KubeVirt;
  /** The VMs whose job began (migrate or restart called), in order. */
  started: string[];
  /** The most migrations that ran at the same time (this run's only). */
  maxRunning(): number;
  /** This run's migrations not yet ended. */
  running(): string[];
  /** Ends the VM's migration. */
  finish(vm: string, phase: "Succeeded" | "Failed", reason?: string): void;
  /** Resolves once this many jobs have begun. */
  whenStarted(count: number): Promise<void>;
}

const t0 = Date.parse("2026-11-25T12:00:00Z");

export function fakeMigrations(options: FakeMigrationsOptions): FakeMigrations {
  const namespace = options.namespace ?? "apps";
  const vmis = new Map<string, VirtualMachineInstance>();
  for (const name of options.vms) {
    vmis.set(name, {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: {
        name,
        namespace,
        uid: `${name}-uid-1`,
        ownerReferences: [{ kind: "VirtualMachine", name }],
      },
      spec: {},
      status: { phase: "Running", nodeName: "node-1", launcherContainerImageVersion: oldImage },
    } as VirtualMachineInstance);
  }
  const migrations: VirtualMachineInstanceMigration[] = [];
  for (let i = 0; i < (options.busy ?? 0); i++) {
    migrations.push(migration(`other-${i}`, `busy-${i}`, "Running"));
  }
  const ours = new Set<string>();
  const started: string[] = [];
  let maxRunning = 0;
  const subscribers = new Set<Subscriber>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  function migration(vm: string, name: string, phase: string): VirtualMachineInstanceMigration {
    return {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstanceMigration",
      metadata: {
        name,
        namespace,
        uid: `${name}-uid`,
        creationTimestamp: new Date(t0 + migrations.length * 1000).toISOString(),
        labels: { "kubevirt.io/vmi-name": vm },
      },
      spec: { vmiName: vm },
      status: { phase, migrationState: { sourceNode: "node-1", migrationUid: `${name}-uid` } },
    } as VirtualMachineInstanceMigration;
  }
  const unfinished = (m: VirtualMachineInstanceMigration) =>
    m.status?.phase !== "Succeeded" && m.status?.phase !== "Failed";
  const running = () =>
    migrations
      .filter((m) => ours.has(m.metadata.name ?? "") && unfinished(m))
      .map((m) => m.spec.vmiName ?? "");
  const publish = (key: string, update: WatchUpdate<never>) => {
    for (const s of subscribers) if (s.key === key) s.push(update);
  };
  const begin = (vm: string) => {
    started.push(vm);
    for (const w of [...waiters]) {
      if (started.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const finish = (vm: string, phase: "Succeeded" | "Failed", reason?: string) => {
    const m = migrations.find((x) => x.spec.vmiName === vm && unfinished(x));
    if (!m) throw new Error(`no migration of ${vm} is running`);
    const uid = m.metadata.uid;
    const done = {
      ...m,
      status: {
        phase,
        migrationState: {
          migrationUid: uid,
          sourceNode: "node-1",
          targetNode: "node-2",
          completed: phase === "Succeeded",
          ...(phase === "Failed" ? { failed: true, failureReason: reason ?? "the target failed" } : {}),
        },
      },
    } as VirtualMachineInstanceMigration;
    migrations[migrations.indexOf(m)] = done;
    if (phase === "Succeeded") {
      const vmi = vmis.get(vm);
      if (vmi?.status)
        vmis.set(vm, {
          ...vmi,
          status: { ...vmi.status, nodeName: "node-2", launcherContainerImageVersion: currentImage },
        });
    }
    publish(`vmim/${vm}`, { type: "MODIFIED", object: done as never });
  };

  /** Yields `initial`, SYNCED, then what is published under `key`, until the signal aborts. */
  async function* stream(key: string, initial: readonly unknown[], signal: AbortSignal) {
    const queue: WatchUpdate<never>[] = [];
    let wake: (() => void) | undefined;
    const subscriber: Subscriber = {
      key,
      push: (update) => {
        queue.push(update);
        wake?.();
      },
    };
    subscribers.add(subscriber);
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      for (const object of initial) yield { type: "ADDED", object } as WatchUpdate<never>;
      yield { type: "SYNCED", resourceVersion: "1" } as WatchUpdate<never>;
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      subscribers.delete(subscriber);
      signal.removeEventListener("abort", onAbort);
    }
  }

  const vmOf = (selector: string | undefined) => /=(.+)$/.exec(selector ?? "")?.[1] ?? "";
  const kubevirt = {
    apiVersion: "kubevirt.io/v1",
    kind: "KubeVirt",
    metadata: { name: "kubevirt", namespace: "kubevirt" },
    spec: {
      configuration:
        options.parallelMigrationsPerCluster === undefined
          ? {}
          : { migrations: { parallelMigrationsPerCluster: options.parallelMigrationsPerCluster } },
    },
  } as KubeVirt;

  const kube = fakeKube(
    {
      list: (async (resource: string, list?: { labelSelector?: string }) => {
        if (resource !== "vmim") throw new Error(`unexpected list of ${resource}`);
        const vm = list?.labelSelector ? vmOf(list.labelSelector) : undefined;
        return migrations.filter((m) => vm === undefined || m.spec.vmiName === vm);
      }) as never,
      migrate: async (ns, vm) => {
        if (ns !== namespace) throw new Error(`migrate in ${ns}`);
        begin(vm);
        const refused = options.refuse?.(vm);
        if (refused) throw refused;
        const name = `kubevirt-migrate-vm-${vm}`;
        migrations.push(migration(vm, name, "Running"));
        ours.add(name);
        maxRunning = Math.max(maxRunning, running().length);
        const end = options.autoFinish?.(vm);
        if (end) finish(vm, end);
      },
      restart: async (_ns, vm) => {
        begin(vm);
        const old = vmis.get(vm);
        if (!old) throw new Error(`no VMI ${vm}`);
        const fresh = {
          ...old,
          metadata: { ...old.metadata, uid: `${vm}-uid-2` },
          status: { phase: "Running", nodeName: "node-3", launcherContainerImageVersion: currentImage },
        } as VirtualMachineInstance;
        vmis.set(vm, fresh);
        // Asynchronously, as the VM controller would.
        setImmediate(() => {
          publish(`vmi/${vm}`, { type: "DELETED", object: old as never });
          publish(`vmi/${vm}`, { type: "ADDED", object: fresh as never });
        });
      },
      get: (async (resource: string, name: string) => {
        if (resource !== "vmi") throw new Error(`unexpected get of ${resource}`);
        const vmi = vmis.get(name);
        if (!vmi) throw new Error(`no VMI ${name}`);
        return vmi;
      }) as never,
      watch: ((
        resource: string,
        watch: { labelSelector?: string; fieldSelector?: string; signal: AbortSignal },
      ) => {
        if (resource === "vmim") {
          const vm = vmOf(watch.labelSelector);
          return stream(
            `vmim/${vm}`,
            migrations.filter((m) => m.spec.vmiName === vm),
            watch.signal,
          );
        }
        if (resource === "vmi") {
          const vm = vmOf(watch.fieldSelector);
          const vmi = vmis.get(vm);
          return stream(`vmi/${vm}`, vmi ? [vmi] : [], watch.signal);
        }
        if (resource === "event") return stream("event", [], watch.signal);
        throw new Error(`unexpected watch of ${resource}`);
      }) as never,
    },
    { namespace },
  );

  return {
    kube,
    kubevirt,
    started,
    maxRunning: () => maxRunning,
    running,
    finish,
    whenStarted: (count) =>
      started.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push({ count, resolve });
          }),
  };
}
