// Pre-flight checks before a migration: each a pure function over what `migrate` read once,
// each a verdict (ok / warning / error) with one line of explanation. Nothing here changes or
// reads the cluster.

import { unsupportedKubeVirtVersion, unsupportedMessage } from "../k8s/kubevirt-version.js";
import { outdatedLauncherImageLabel } from "../k8s/launcher-image.js";
import type {
  KubeVirt,
  NetworkAttachmentDefinition,
  Node,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import { commandLine, kvmigCommand } from "../util/shell.js";

import {
  countsTowardsLimits,
  defaultParallelMigrationsPerCluster,
  defaultParallelOutboundMigrationsPerNode,
  type Limits,
} from "./pending.js";
import { isFinalPhase } from "./state.js";

export type VerdictStatus = "ok" | "warning" | "error";

export interface Verdict {
  check:
    | "vmi-running"
    | "live-migratable"
    | "in-flight"
    | "launcher-image"
    | "networks"
    | "target-nodes"
    | "parallel-limits"
    | "rbac"
    | "kubevirt-version";
  status: VerdictStatus;
  message: string;
  hint?: string | undefined;
  /** An error that --force cannot bypass: there is nothing KubeVirt could migrate. */
  blocking?: true | undefined;
}

export interface PreflightInput {
  namespace: string;
  vmName: string;
  vm?: VirtualMachine | undefined;
  vmi?: VirtualMachineInstance | undefined;
  /** This VMI's migrations (label kubevirt.io/vmi-name). */
  migrations: readonly VirtualMachineInstanceMigration[];
  /** undefined: could not be read. */
  nodes?: readonly Node[] | undefined;
  nads?: readonly NetworkAttachmentDefinition[] | undefined;
  kubevirt?: KubeVirt | undefined;
  currentLauncherImage?: string | undefined;
  clusterMigrations?: readonly VirtualMachineInstanceMigration[] | undefined;
  /** Source node per running migration name, for the per-node limit. */
  sourceNodes?: ReadonlyMap<string, string> | undefined;
  /** undefined: the access review could not be made. */
  access?: { allowed: boolean; reason?: string | undefined } | undefined;
  /** What the review asked for, e.g. "update virtualmachines/migrate". */
  accessDescription: string;
  targetNode?: string | undefined;
  nodeSelector?: Readonly<Record<string, string>> | undefined;
}

export function limitsOf(kubevirt: KubeVirt | undefined): Limits {
  const m = kubevirt?.spec.configuration?.migrations;
  return {
    perCluster: m?.parallelMigrationsPerCluster ?? defaultParallelMigrationsPerCluster,
    perNode: m?.parallelOutboundMigrationsPerNode ?? defaultParallelOutboundMigrationsPerNode,
  };
}

/** The unfinished migration of this VMI, newest first, if any (the webhook allows one). */
export function unfinishedMigration(
  migrations: readonly VirtualMachineInstanceMigration[],
): VirtualMachineInstanceMigration | undefined {
  return [...migrations]
    .filter((m) => !isFinalPhase(m.status?.phase))
    .sort((a, b) =>
      (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""),
    )[0];
}

export function checkVmiRunning(input: PreflightInput): Verdict {
  const vmi = input.vmi;
  if (!vmi) {
    return {
      check: "vmi-running",
      status: "error",
      message: `VM ${input.vmName} is not running (no VirtualMachineInstance)`,
      hint: `start it first: ${commandLine(["virtctl", "start", input.vmName, "-n", input.namespace])}; ${commandLine(["kubectl", "get", "vm,vmi", input.vmName, "-n", input.namespace])} shows both`,
      blocking: true,
    };
  }
  const phase = vmi.status?.phase ?? "";
  if (phase !== "Running") {
    return {
      check: "vmi-running",
      status: "error",
      message: `VMI ${input.vmName} is ${phase || "not yet scheduled"}, not Running`,
      hint: "only a Running VMI can be live-migrated",
      blocking: true,
    };
  }
  return {
    check: "vmi-running",
    status: "ok",
    message: `VMI ${input.vmName} is Running on ${vmi.status?.nodeName ?? "?"}`,
  };
}

export function checkLiveMigratable(input: PreflightInput): Verdict {
  const condition = input.vmi?.status?.conditions?.find((c) => c.type === "LiveMigratable");
  if (!condition) {
    return {
      check: "live-migratable",
      status: "warning",
      message: "the VMI does not report LiveMigratable yet",
      hint: "virt-handler sets it once the VMI runs; KubeVirt will refuse the migration if it is not migratable",
    };
  }
  if (condition.status === "True")
    return { check: "live-migratable", status: "ok", message: "live-migratable" };
  return {
    check: "live-migratable",
    status: "error",
    message: `not live-migratable: ${condition.reason ?? "NotMigratable"}${condition.message ? `: ${condition.message}` : ""}`,
    hint: `KubeVirt refuses this migration; ${kvmigCommand(["restart", input.vmName, "-n", input.namespace])} moves it with downtime`,
  };
}

export function checkInFlight(input: PreflightInput): Verdict {
  const existing = unfinishedMigration(input.migrations);
  if (!existing) return { check: "in-flight", status: "ok", message: "no migration in progress" };
  return {
    check: "in-flight",
    status: "warning",
    message: `migration ${existing.metadata.name} is already ${existing.status?.phase || "Pending"}; following it instead of starting another`,
  };
}

export function checkLauncherImage(input: PreflightInput): Verdict {
  const vmi = input.vmi;
  const running = vmi?.status?.launcherContainerImageVersion;
  const labelled = vmi?.metadata.labels?.[outdatedLauncherImageLabel] !== undefined;
  const differs = Boolean(running && input.currentLauncherImage && running !== input.currentLauncherImage);
  if (labelled || differs) {
    return {
      check: "launcher-image",
      status: "warning",
      message: `outdated virt-launcher${running ? ` ${running}` : ""}${input.currentLauncherImage ? ` (current ${input.currentLauncherImage})` : ""}: version-skew risk`,
      hint: `if the migration fails, ${kvmigCommand(["restart", input.vmName, "-n", input.namespace])} is the safer path (with downtime)`,
    };
  }
  return {
    check: "launcher-image",
    status: "ok",
    message: running ? `launcher image is current (${running})` : "launcher image not reported",
  };
}

export function checkNetworks(input: PreflightInput): Verdict {
  const spec = input.vm?.spec.template?.spec ?? input.vmi?.spec;
  const multus = (spec?.networks ?? []).filter((n) => n.multus?.networkName);
  if (multus.length === 0) return { check: "networks", status: "ok", message: "no Multus networks" };
  if (!input.nads) {
    return {
      check: "networks",
      status: "warning",
      message: `could not list NetworkAttachmentDefinitions to check ${multus.map((n) => n.multus?.networkName).join(", ")}`,
    };
  }
  const missing = multus
    .map((n) => n.multus?.networkName ?? "")
    .filter((ref) => {
      const [ns, name] = ref.includes("/") ? ref.split("/", 2) : [input.namespace, ref];
      return !input.nads?.some(
        (nad) => nad.metadata.name === name && (nad.metadata.namespace ?? input.namespace) === ns,
      );
    });
  if (missing.length > 0) {
    return {
      check: "networks",
      status: "error",
      // A qualified reference (`infra/br-ext`) names its own namespace.
      message: `NetworkAttachmentDefinition ${missing.map((ref) => (ref.includes("/") ? `${ref} not found` : `${ref} not found in ${input.namespace}`)).join(", ")}; the target pod cannot start`,
      hint: `create it: kubectl get network-attachment-definitions -A, then kubectl apply -n ${input.namespace} -f <nad.yaml>`,
    };
  }
  return {
    check: "networks",
    status: "ok",
    message: `Multus networks present: ${multus.map((n) => n.multus?.networkName).join(", ")}`,
  };
}

function nodeUsable(node: Node): string | undefined {
  if (node.spec?.unschedulable) return "cordoned";
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.status !== "True") return "not Ready";
  if (node.metadata.labels?.["kubevirt.io/schedulable"] === "false") return "kubevirt.io/schedulable=false";
  return undefined;
}

export function checkTargetNodes(input: PreflightInput): Verdict {
  const source = input.vmi?.status?.nodeName;
  if (!input.nodes)
    return {
      check: "target-nodes",
      status: "warning",
      message: "could not list nodes to check for a target",
    };
  if (input.targetNode) {
    const node = input.nodes.find((n) => n.metadata.name === input.targetNode);
    if (!node) {
      return {
        check: "target-nodes",
        status: "error",
        message: `target node ${input.targetNode} does not exist`,
        hint: "kubectl get nodes",
      };
    }
    if (input.targetNode === source) {
      return {
        check: "target-nodes",
        status: "error",
        message: `the VMI already runs on ${input.targetNode}`,
        hint: "pick another --target-node",
      };
    }
    const why = nodeUsable(node);
    if (why) {
      return {
        check: "target-nodes",
        status: "error",
        message: `target node ${input.targetNode} is ${why}`,
        hint: "pick another --target-node",
      };
    }
    return {
      check: "target-nodes",
      status: "ok",
      message: `target node ${input.targetNode} is Ready and schedulable`,
    };
  }
  const selector = input.nodeSelector ?? {};
  const others = input.nodes.filter(
    (n) =>
      n.metadata.name !== source &&
      nodeUsable(n) === undefined &&
      Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v),
  );
  // No node carries the selector's labels at all: say that, not "uncordon or add capacity".
  const labelled = input.nodes.filter(
    (n) =>
      n.metadata.name !== source && Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v),
  );
  if (Object.keys(selector).length > 0 && labelled.length === 0) {
    const wanted = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    return {
      check: "target-nodes",
      status: "error",
      message: `no node other than the source has the label${Object.keys(selector).length > 1 ? "s" : ""} ${wanted}`,
      hint: `check the labels: ${commandLine(["kubectl", "get", "nodes", "-l", wanted])}`,
    };
  }
  if (others.length === 0) {
    const scope = Object.keys(selector).length > 0 ? " matching --node-selector" : "";
    return {
      check: "target-nodes",
      status: "error",
      message: `no other Ready, schedulable node${scope} to migrate to`,
      hint: "uncordon a node or add capacity: kubectl get nodes",
    };
  }
  const names = others.map((n) => n.metadata.name ?? "");
  const shown = names.length > 4 ? `${names.slice(0, 4).join(", ")}, …` : names.join(", ");
  return {
    check: "target-nodes",
    status: "ok",
    message: `${others.length} other schedulable node${others.length === 1 ? "" : "s"}: ${shown}`,
  };
}

export function checkParallelLimits(input: PreflightInput): Verdict {
  if (!input.clusterMigrations) {
    return {
      check: "parallel-limits",
      status: "warning",
      message: "could not list migrations cluster-wide to check the parallel limits",
    };
  }
  const limits = limitsOf(input.kubevirt);
  const running = input.clusterMigrations.filter(countsTowardsLimits);
  const source = input.vmi?.status?.nodeName;
  const outbound =
    source === undefined
      ? 0
      : running.filter((m) => input.sourceNodes?.get(m.metadata.name ?? "") === source).length;
  const counts = `${running.length} of ${limits.perCluster} in the cluster, ${outbound} of ${limits.perNode} from ${source ?? "the source node"}`;
  if (running.length >= limits.perCluster || outbound >= limits.perNode) {
    return {
      check: "parallel-limits",
      status: "warning",
      message: `the migration will queue: ${counts}`,
      hint: "it starts when a slot frees; the limits are spec.configuration.migrations in the KubeVirt CR",
    };
  }
  return { check: "parallel-limits", status: "ok", message: `migration slots in use: ${counts}` };
}

export function checkAccess(input: PreflightInput): Verdict {
  if (!input.access) {
    return {
      check: "rbac",
      status: "warning",
      message: `could not check whether you may ${input.accessDescription}`,
    };
  }
  if (input.access.allowed)
    return { check: "rbac", status: "ok", message: `allowed to ${input.accessDescription}` };
  return {
    check: "rbac",
    status: "error",
    message: `not allowed to ${input.accessDescription} in ${input.namespace}`,
    hint: "ask for the ClusterRole kubevirt.io:migrate (KubeVirt 1.5+) bound in this namespace",
  };
}

/** Every check, in the order they are shown. */
/** Only when the cluster's KubeVirt is older than kvmig supports: then an error. */
export function checkKubeVirtVersion(input: PreflightInput): Verdict | undefined {
  const version = unsupportedKubeVirtVersion(input.kubevirt);
  if (!version) return undefined;
  return {
    check: "kubevirt-version",
    status: "error",
    message: unsupportedMessage(version),
    hint: "upgrade KubeVirt, or use virtctl migrate",
  };
}

export function preflight(input: PreflightInput): Verdict[] {
  const tooOld = checkKubeVirtVersion(input);
  if (tooOld) return [tooOld];
  const running = checkVmiRunning(input);
  if (running.status === "error") return [running, checkAccess(input)];
  return [
    running,
    checkLiveMigratable(input),
    checkInFlight(input),
    checkLauncherImage(input),
    checkNetworks(input),
    checkTargetNodes(input),
    checkParallelLimits(input),
    checkAccess(input),
  ];
}
