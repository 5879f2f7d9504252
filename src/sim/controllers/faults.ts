// Faults a scenario injects into future migrations: a dropped libvirt connection (version skew,
// a target virt-handler restart), a missing vif-cache on target pods. Each may be limited to a
// VM, to VMIs on an outdated launcher, and to a number of occurrences; a dropped connection also
// to a node. More may be added while the cluster runs (`SimCluster.addMigrationFaults`), and
// taken away again.
//
// A node's virt-handler that goes away (a crash, a kill, or a restart whose grace period ran
// out) takes the migration proxy of every migration through the node with it: virt-handler
// proxies libvirt's connection from a unix socket on the source to TCP on the target, on both
// ends (`pkg/virt-handler/migration-proxy/migration-proxy.go` StartSourceListener,
// StartTargetListener), and libvirt then reports `client socket is closed` (facts §h). That is
// `connectionDrop` with `node`, held for as long as the handler is away. Not modelled: a
// graceful shutdown (`cmd/virt-handler/virt-handler.go`), which waits for open proxies and
// refuses new ones with `unable to process new migration connections during virt-handler
// shutdown`.
//
// A target whose CPU lacks features the guest uses (`cpuMismatch`): the node labeller's labels
// let the target pod schedule, but libvirt on the target refuses the incoming guest as soon as
// the source calls MigrateToURI3, with `operation failed: guest CPU doesn't match specification:
// missing features: ...` (libvirt's src/cpu/cpu_x86.c; VIR_ERR_OPERATION_FAILED = 9 from
// VIR_FROM_CPU = 31). kubevirt/kubevirt#12519 shows it on v1.x for a host-model guest whose
// nested-virtualization (vmx-*) features one node's CPU did not offer. The migration fails at
// once, in phase Running, every time.

import { hashedPodInterfaceName, outdatedLauncherImageLabel } from "../objects.js";
import type { SimObject } from "../store.js";
import { dig } from "./fields.js";

export type FaultSpec =
  | {
      type: "connectionDrop";
      /** `namespace/name` or `name`; any VM when unset. */
      vm?: string;
      /** Only migrations from or to this node (its virt-handler went away). */
      node?: string;
      /** Only when the source runs an outdated virt-launcher (version skew). */
      outdatedSourceOnly?: boolean;
      /** Fraction of the data sent when the connection drops, default 0.3. */
      atProgress?: number;
      /** How many migrations it hits; unlimited when unset. */
      times?: number;
    }
  | { type: "vifCache"; vm?: string; times?: number }
  | {
      type: "cpuMismatch";
      vm?: string;
      times?: number;
      /** The features libvirt names as missing on the target (default: nested-virt vmx-* ones). */
      features?: string[];
    }
  | {
      type: "targetNetworkSetup";
      vm?: string;
      times?: number;
      /** The CNI's error; by default a missing bridge for the VM's first Multus network. */
      message?: string;
    };

/** Nested-virtualization features a newer CPU generation adds (as in kubevirt/kubevirt#12519). */
export const defaultMissingCpuFeatures: readonly string[] = [
  "vmx-rdseed-exit",
  "vmx-tsc-scaling",
  "vmx-enable-user-wait-pause",
];

function matches(spec: { vm?: string }, vmi: SimObject): boolean {
  if (!spec.vm) return true;
  const { namespace, name } = vmi.metadata;
  return spec.vm === name || spec.vm === `${namespace}/${name}`;
}

/** Whether the VMI's migration runs from or to the node. */
function throughNode(vmi: SimObject, node: string): boolean {
  return (
    dig(vmi, "status", "migrationState", "sourceNode") === node ||
    dig(vmi, "status", "migrationState", "targetNode") === node
  );
}

export class Faults {
  private readonly specs: FaultSpec[];
  private readonly used = new Map<FaultSpec, number>();
  /** Migration uids already hit by a connection drop. */
  private readonly dropped = new Set<string>();

  constructor(specs: readonly FaultSpec[] = []) {
    this.specs = [...specs];
  }

  /** More faults from now on; returns what takes them away again. */
  add(specs: readonly FaultSpec[]): () => void {
    const added = specs.map((spec) => ({ ...spec }));
    this.specs.push(...added);
    return () => {
      for (const spec of added) {
        const index = this.specs.indexOf(spec);
        if (index >= 0) this.specs.splice(index, 1);
        this.used.delete(spec);
      }
    };
  }

  private take(spec: FaultSpec): boolean {
    const used = this.used.get(spec) ?? 0;
    if (spec.times !== undefined && used >= spec.times) return false;
    this.used.set(spec, used + 1);
    return true;
  }

  /** Whether this poll loses the connection to the target, given the fraction sent so far. */
  connectionDrop(vmi: SimObject, progress: number): boolean {
    const uid = String(dig(vmi, "status", "migrationState", "migrationUid") ?? "");
    if (this.dropped.has(uid)) return false;
    for (const spec of this.specs) {
      if (spec.type !== "connectionDrop" || !matches(spec, vmi)) continue;
      if (spec.node !== undefined && !throughNode(vmi, spec.node)) continue;
      if (spec.outdatedSourceOnly && vmi.metadata.labels?.[outdatedLauncherImageLabel] === undefined)
        continue;
      if (progress < (spec.atProgress ?? 0.3)) continue;
      if (!this.take(spec)) continue;
      this.dropped.add(uid);
      return true;
    }
    return false;
  }

  /**
   * The CNI error that keeps a migration target pod of this VMI from getting its network, or
   * undefined. Asked once per target pod.
   */
  targetNetworkSetup(vmi: SimObject): string | undefined {
    for (const spec of this.specs) {
      if (spec.type !== "targetNetworkSetup" || !matches(spec, vmi) || !this.take(spec)) continue;
      if (spec.message) return spec.message;
      const networks = (dig(vmi, "spec", "networks") ?? []) as {
        name: string;
        multus?: { networkName?: string };
      }[];
      const multus = networks.find((n) => n.multus)?.multus?.networkName ?? "default";
      const network = multus.includes("/") ? multus.split("/")[1] : multus;
      return `error adding container to network "${network}": failed to find bridge br-${network}`;
    }
    return undefined;
  }

  /**
   * The CPU features the target lacks for this VMI's guest (libvirt refuses the migration as it
   * starts), or undefined. Asked once per migration.
   */
  cpuMismatch(vmi: SimObject): string[] | undefined {
    for (const spec of this.specs) {
      if (spec.type !== "cpuMismatch" || !matches(spec, vmi) || !this.take(spec)) continue;
      return spec.features && spec.features.length > 0 ? [...spec.features] : [...defaultMissingCpuFeatures];
    }
    return undefined;
  }

  /** The pod interface whose vif-cache the target misses, or undefined. */
  vifCache(vmi: SimObject): string | undefined {
    for (const spec of this.specs) {
      if (spec.type !== "vifCache" || !matches(spec, vmi) || !this.take(spec)) continue;
      const networks = (dig(vmi, "spec", "networks") ?? []) as {
        name: string;
        multus?: object;
        pod?: object;
      }[];
      const interfaces = (dig(vmi, "spec", "domain", "devices", "interfaces") ?? []) as {
        name: string;
        bridge?: object;
      }[];
      const bridged = interfaces.find((i) => i.bridge !== undefined);
      const network = networks.find((n) => n.name === bridged?.name);
      return network?.multus ? hashedPodInterfaceName(network.name) : "eth0";
    }
    return undefined;
  }
}
