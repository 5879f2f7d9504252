// The data diagnose works on and produces. A Snapshot is everything gathered once about one VM
// (live, or read from a directory); a rule is a pure function from a Snapshot to Findings.

import type {
  Deployment,
  Event,
  KubeVirt,
  MigrationPolicy,
  NetworkAttachmentDefinition,
  Node,
  NodeNetworkState,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import type { OutboundNodes } from "../migration/outbound.js";

/** One container log, as read (the tail of it, live). */
export interface ContainerLog {
  namespace: string;
  pod: string;
  container: string;
  /** The raw lines, oldest first; launcher lines are JSON objects, others plain text. */
  lines: readonly string[];
}

/** Something diagnose wanted to read and could not: a finding says what it could not check. */
export interface MissingEvidence {
  /** What was not read, e.g. "events in demo", "log of virt-launcher-db-1-abcde/compute". */
  what: string;
  /** Why: "forbidden: ...", "not in the directory", "not found". */
  why: string;
}

/**
 * An API call that the caller (migrate, cancel) saw fail, handed to diagnose as evidence:
 * a 403 on the migrate subresource, an in-flight rejection from the admission webhook.
 */
export interface ApiRejection {
  /** e.g. "PUT virtualmachines/db-1/migrate". */
  request: string;
  status: number;
  reason?: string | undefined;
  message: string;
  at?: string | undefined;
}

export interface Snapshot {
  /** Where the evidence came from. */
  readonly source: "live" | "directory";
  /** When it was gathered (RFC 3339); rules measure ages against this, never the wall clock. */
  readonly takenAt: string;
  readonly namespace: string;
  /** The VM (or standalone VMI) name diagnose was asked about. */
  readonly vmName: string;
  readonly vm?: VirtualMachine | undefined;
  readonly vmi?: VirtualMachineInstance | undefined;
  /** The VMIMs of this VMI (label kubevirt.io/vmi-name), oldest first by creationTimestamp. */
  readonly migrations: readonly VirtualMachineInstanceMigration[];
  /**
   * The unfinished VMIMs of every namespace (what the parallel limits count); read live only
   * while this VM has a migration waiting, absent otherwise.
   */
  readonly clusterMigrations?: readonly VirtualMachineInstanceMigration[] | undefined;
  /**
   * Where each running one of them leaves from, read from its VMI as virt-controller does
   * (migration/outbound.ts): a running VMIM does not carry its source node. Read with them.
   */
  readonly clusterOutboundNodes?: OutboundNodes | undefined;
  /** The VMI's virt-launcher pods (source and targets). */
  readonly pods: readonly Pod[];
  /**
   * virt-handler's pods (label kubevirt.io=virt-handler), for their restarts and start times on
   * the migration's nodes; absent when not read.
   */
  readonly handlerPods?: readonly Pod[] | undefined;
  /** Events about the VM, the VMI, its VMIMs and its launcher pods (core/v1 shape), oldest first. */
  readonly events: readonly Event[];
  /** Tails of the launcher pods' `compute` logs (and any other container logs found offline). */
  readonly logs: readonly ContainerLog[];
  /** The nodes involved (source, targets), or all nodes when they were read as a list. */
  readonly nodes: readonly Node[];
  readonly kubevirt?: KubeVirt | undefined;
  /** virt-controller's Deployment, for its `--launcher-image`. */
  readonly virtController?: Deployment | undefined;
  /** The current launcher image (from virt-controller's `--launcher-image`), when known. */
  readonly currentLauncherImage?: string | undefined;
  /** NetworkAttachmentDefinitions in the VM's namespace (and any referenced elsewhere). */
  readonly networkAttachmentDefinitions: readonly NetworkAttachmentDefinition[];
  readonly migrationPolicies: readonly MigrationPolicy[];
  /**
   * kubernetes-nmstate's NodeNetworkStates (the nodes' bridges), read for a VM with Multus
   * networks; absent when not read (nmstate not installed, or no Multus network): see `missing`.
   */
  readonly nodeNetworkStates?: readonly NodeNetworkState[] | undefined;
  /** Failed API calls the caller saw (migrate, cancel), if any. */
  readonly rejections: readonly ApiRejection[];
  /** Whether the user may update virtualmachines/migrate (SelfSubjectAccessReview); unknown offline. */
  readonly canMigrate?: boolean | undefined;
  readonly missing: readonly MissingEvidence[];
}

export type Severity = "error" | "warning" | "info";
export type Confidence = "high" | "medium" | "low";

/** One piece of evidence: the object it is on, the field or source, when, and the exact text. */
export interface Evidence {
  /** `kind/name`, e.g. "VirtualMachineInstanceMigration/kubevirt-migrate-vm-x7k2p", "Pod/virt-launcher-db-1-abcde". */
  object: string;
  /** The field path ("status.migrationState.failureReason"), "event Migrated", or "log compute". */
  field?: string | undefined;
  /** RFC 3339, when known. */
  time?: string | undefined;
  /** The exact text as KubeVirt or Kubernetes wrote it. */
  text: string;
}

export interface Fix {
  /** What to do and why, in plain words. */
  explanation: string;
  /** Copy-pasteable commands with the real names, shell-quoted. */
  commands: string[];
}

export interface Finding {
  /** The rule id, e.g. "version-skew". */
  id: string;
  title: string;
  severity: Severity;
  confidence: Confidence;
  /** What was found and why it matters, in one or two sentences. */
  summary: string;
  evidence: Evidence[];
  fix: Fix;
  /** KubeVirt user guide page or the upstream issue. */
  docs: string;
  /** What the rule could not check (missing evidence), which is why its confidence is lower. */
  notChecked?: string[] | undefined;
  /** The id of a finding that explains this one (the root cause), when there is one. */
  causedBy?: string | undefined;
}

/**
 * How directly a rule names a root cause, for ordering findings of equal severity and
 * confidence: a `cause` names the mechanism (launcher skew, a CPU model, storage, the network
 * on the target), a `symptom` how the migration ended (the target pod died, the connection
 * dropped, it waits in a queue), a `pattern` what repeated failures look like (a backoff loop, a
 * migration that stopped moving), and the `fallback` is what is left when nothing explains a
 * failure.
 */
export type Specificity = "cause" | "symptom" | "pattern" | "fallback";

export interface Rule {
  readonly id: string;
  readonly title: string;
  /** The severity of its findings unless a finding says otherwise. */
  readonly severity: Severity;
  /** "cause" when not given. A `fallback` rule runs after the others and sees their findings. */
  readonly specificity?: Specificity | undefined;
  detect(snapshot: Snapshot, earlier?: readonly Finding[]): Finding[];
}
