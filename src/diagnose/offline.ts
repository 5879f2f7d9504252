// `diagnose --from DIR`: a Snapshot of one VM built from a directory of manifests and logs
// (product spec §5). The directory may hold many VMs; only what concerns the subject is kept.

import { NotFoundError, UsageError } from "../errors.js";
import type { KubeObject, Status } from "../k8s/meta.js";
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
import { commandLine, kvmigCommand } from "../util/shell.js";
import { eventTime, isHandlerPod, logEntries } from "./evidence.js";
import {
  defaultEvidenceLimits,
  type EvidenceLimits,
  type FoundLog,
  type FoundObject,
  readEvidenceDirectory,
  unreadableLog,
} from "./offline-files.js";
import { isVirtController, ObjectKeeper } from "./offline-keep.js";
import { logCutNote, readLog } from "./offline-logs.js";
import {
  eventsAbout,
  launcherImageOf,
  launcherPodPattern,
  newestTimestamp,
  type SnapshotInfo,
  snapshotInfoApiVersion,
  snapshotInfoKind,
  sortByTime,
  toCoreEvent,
} from "./snapshot-parts.js";
import type { ApiRejection, ContainerLog, MissingEvidence, Snapshot } from "./types.js";

export interface OfflineOptions {
  /** The VM (or standalone VMI); may be omitted when the directory holds exactly one. */
  vmName?: string | undefined;
  namespace?: string | undefined;
  /** RFC 3339: the time to diagnose at; default: the newest time found in the evidence. */
  at?: string | undefined;
  /** How much of the directory is read and kept (tests lower them). */
  limits?: EvidenceLimits | undefined;
}

interface ByKind {
  vms: VirtualMachine[];
  vmis: VirtualMachineInstance[];
  migrations: VirtualMachineInstanceMigration[];
  pods: Pod[];
  events: Event[];
  nodes: Node[];
  kubevirts: KubeVirt[];
  deployments: Deployment[];
  nads: NetworkAttachmentDefinition[];
  states: NodeNetworkState[];
  policies: MigrationPolicy[];
  infos: SnapshotInfo[];
  /** Failed API answers saved as `kind: Status` (a 403 on migrate, an admission refusal). */
  rejections: ApiRejection[];
  /** Events and pods dropped as they were read (ObjectKeeper): they were saved all the same. */
  otherEvents: number;
  otherPods: number;
}

function sortByKind(found: readonly FoundObject[], keeper: ObjectKeeper): ByKind {
  const by: ByKind = {
    vms: [],
    vmis: [],
    migrations: [],
    pods: [],
    events: [],
    nodes: [],
    kubevirts: [],
    deployments: [],
    nads: [],
    states: [],
    policies: [],
    infos: [],
    rejections: [],
    otherEvents: keeper.otherEvents,
    otherPods: keeper.otherPods,
  };
  const seen = new Set<string>();
  for (const { object } of found) {
    // The same object in two files (a list and a single get) counts once.
    const key = `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}/${object.metadata.uid ?? ""}`;
    if (object.metadata.name !== undefined && seen.has(key)) continue;
    seen.add(key);
    const group = (object.apiVersion ?? "").split("/")[0] ?? "";
    switch (object.kind) {
      case "VirtualMachine":
        by.vms.push(object as unknown as VirtualMachine);
        break;
      case "VirtualMachineInstance":
        by.vmis.push(object as unknown as VirtualMachineInstance);
        break;
      case "VirtualMachineInstanceMigration":
        by.migrations.push(object as unknown as VirtualMachineInstanceMigration);
        break;
      case "Pod":
        by.pods.push(object as unknown as Pod);
        break;
      case "Event":
        by.events.push(group === "events.k8s.io" ? toCoreEvent(object) : (object as unknown as Event));
        break;
      case "Node":
        by.nodes.push(object as unknown as Node);
        break;
      case "KubeVirt":
        by.kubevirts.push(object as unknown as KubeVirt);
        break;
      case "Deployment":
        by.deployments.push(object as unknown as Deployment);
        break;
      case "NetworkAttachmentDefinition":
        by.nads.push(object as unknown as NetworkAttachmentDefinition);
        break;
      case "NodeNetworkState":
        by.states.push(object as unknown as NodeNetworkState);
        break;
      case "MigrationPolicy":
        by.policies.push(object as unknown as MigrationPolicy);
        break;
      case "Status": {
        const rejection = rejectionOf(object as unknown as Status);
        if (rejection) by.rejections.push(rejection);
        break;
      }
      case snapshotInfoKind:
        if (object.apiVersion === snapshotInfoApiVersion) by.infos.push(object as unknown as SnapshotInfo);
        break;
      default:
      // Other kinds (Services, PVCs, ...) are not read by any rule.
    }
  }
  return by;
}

/** A saved Status body of a refused request, as the request kvmig would have recorded. */
function rejectionOf(status: Status): ApiRejection | undefined {
  if (status.status !== "Failure" || status.code === undefined || status.code < 400) return undefined;
  const message = status.message ?? "";
  // `User "x" cannot update resource "virtualmachines/migrate"`: the request as the caller would record it.
  const refused = /cannot (\w+) resource "([^"/]+)(?:\/([^"]+))?"/.exec(message);
  const name = status.details?.name;
  const method: Record<string, string> = {
    update: "PUT",
    create: "POST",
    delete: "DELETE",
    patch: "PATCH",
    get: "GET",
  };
  const request = refused
    ? `${method[refused[1] ?? ""] ?? refused[1]} ${[refused[2], name, refused[3]].filter(Boolean).join("/")}`
    : `${status.details?.kind ?? "request"}${name ? `/${name}` : ""}`;
  return {
    request,
    status: status.code,
    reason: status.reason,
    message,
  };
}

export async function loadSnapshotFromDir(dir: string, options: OfflineOptions = {}): Promise<Snapshot> {
  const at = options.at;
  if (at !== undefined && Number.isNaN(Date.parse(at))) {
    throw new UsageError(`"${at}" is not a time`, {
      hint: "give an RFC 3339 time, like 2025-03-01T12:00:00Z",
    });
  }
  const limits = options.limits ?? defaultEvidenceLimits;
  const keeper = new ObjectKeeper(options.vmName);
  const contents = await readEvidenceDirectory(dir, limits, keeper);
  if (contents.objectCount === 0 && contents.logs.length === 0) {
    const looked = contents.fileCount === 0 ? "is empty" : "holds no readable manifests or logs";
    const skipped = contents.skipped[0];
    throw new UsageError(
      `directory "${dir}" ${looked}${skipped ? ` (${skipped.what}: ${skipped.why})` : ""}`,
      {
        hint: `save the evidence first, e.g. ${commandLine(["kubectl", "get", "vm,vmi,vmim,pods,events", "-n", "NS", "-o", "yaml"])} > DIR/objects.yaml`,
      },
    );
  }
  const by = sortByKind(contents.objects, keeper);
  const subject = chooseSubject(dir, by, options);
  const pods = subjectPods(by, subject);
  const { logs, notes } = await readSubjectLogs(by, pods, contents.logs, subject, limits);
  return buildSnapshot(by, pods, logs, [...contents.skipped, ...notes], subject, at);
}

interface Subject {
  vmName: string;
  namespace: string;
  vm?: VirtualMachine | undefined;
  vmi?: VirtualMachineInstance | undefined;
}

function inNamespace(object: KubeObject, namespace: string | undefined): boolean {
  return (
    namespace === undefined ||
    object.metadata.namespace === undefined ||
    object.metadata.namespace === namespace
  );
}

function chooseSubject(dir: string, by: ByKind, options: OfflineOptions): Subject {
  const ns = options.namespace;
  const vms = by.vms.filter((o) => inNamespace(o, ns));
  const vmis = by.vmis.filter((o) => inNamespace(o, ns));
  const known = [...new Set([...vmis, ...vms].map((o) => qualified(o)))].sort();
  let name = options.vmName;
  if (name === undefined) {
    const only = vmis.length === 1 ? vmis[0] : vms.length === 1 && vmis.length === 0 ? vms[0] : undefined;
    if (!only?.metadata.name) {
      const listing = known.length > 0 ? `: ${known.join(", ")}` : "";
      throw new UsageError(
        known.length === 0
          ? `no VirtualMachine or VirtualMachineInstance in "${dir}"; name the VM to diagnose`
          : `"${dir}" holds ${known.length} VMs${listing}; name the one to diagnose`,
        { hint: `${kvmigCommand(["diagnose"])} VM --from DIR` },
      );
    }
    name = only.metadata.name;
  }
  const vmi = vmis.find((o) => o.metadata.name === name);
  const vm = vms.find((o) => o.metadata.name === name);
  const namespace = ns ?? vmi?.metadata.namespace ?? vm?.metadata.namespace;
  if (!vm && !vmi) {
    const mentioned =
      by.migrations.some((m) => vmiNameOf(m) === name && inNamespace(m, ns)) ||
      by.pods.some((p) => podBelongsByName(p, name) && inNamespace(p, ns)) ||
      by.events.some(
        (e) =>
          e.involvedObject.name === name &&
          (ns === undefined || e.involvedObject.namespace === undefined || e.involvedObject.namespace === ns),
      );
    if (!mentioned) {
      const where = ns === undefined ? "" : ` in namespace ${ns}`;
      throw new NotFoundError(`VM "${name}" not found${where} in "${dir}"`, {
        hint:
          known.length > 0
            ? `the directory holds: ${known.join(", ")}`
            : "the directory holds no VMs or VMIs",
      });
    }
  }
  return { vmName: name, namespace: namespace ?? inferNamespace(by, name) ?? "default", vm, vmi };
}

function qualified(object: KubeObject): string {
  return object.metadata.namespace
    ? `${object.metadata.namespace}/${object.metadata.name}`
    : `${object.metadata.name}`;
}

function inferNamespace(by: ByKind, name: string): string | undefined {
  return (
    by.migrations.find((m) => vmiNameOf(m) === name)?.metadata.namespace ??
    by.pods.find((p) => podBelongsByName(p, name))?.metadata.namespace ??
    by.events.find((e) => e.involvedObject.name === name)?.involvedObject.namespace
  );
}

function vmiNameOf(m: VirtualMachineInstanceMigration): string | undefined {
  return m.metadata.labels?.["kubevirt.io/vmi-name"] ?? m.spec?.vmiName;
}

function podBelongsByName(pod: Pod, vmiName: string): boolean {
  const labels = pod.metadata.labels ?? {};
  return (
    labels["vm.kubevirt.io/name"] === vmiName ||
    labels["vmi.kubevirt.io/id"] === vmiName ||
    pod.metadata.annotations?.["kubevirt.io/domain"] === vmiName
  );
}

/** The subject's launcher pods: created by its VMI, or named for it; oldest first. */
function subjectPods(by: ByKind, subject: Subject): Pod[] {
  const uid = subject.vmi?.metadata.uid;
  return sortByTime(
    by.pods.filter(
      (p) =>
        inNamespace(p, subject.namespace) &&
        ((uid !== undefined && p.metadata.labels?.["kubevirt.io/created-by"] === uid) ||
          podBelongsByName(p, subject.vmName)),
    ),
    (p) => p.metadata.creationTimestamp,
  );
}

/**
 * The logs of the subject's pods (and of launcher pods named for it that the directory has no
 * manifest of), read one after the other, each cut down to the limits; a note for each log that
 * was cut down or could not be read. Other pods' logs are never read.
 */
async function readSubjectLogs(
  by: ByKind,
  pods: readonly Pod[],
  found: readonly FoundLog[],
  subject: Subject,
  limits: EvidenceLimits,
): Promise<{ logs: ContainerLog[]; notes: MissingEvidence[] }> {
  const { namespace } = subject;
  const podNames = new Set(pods.map((p) => p.metadata.name));
  const allPodNames = new Set(by.pods.map((p) => p.metadata.name));
  const launcherPattern = launcherPodPattern(subject.vmName);
  const logs: ContainerLog[] = [];
  const notes: MissingEvidence[] = [];
  for (const log of found) {
    if (log.namespace !== undefined && log.namespace !== namespace) continue;
    if (!podNames.has(log.pod) && (allPodNames.has(log.pod) || !launcherPattern.test(log.pod))) continue;
    const kept = await readLog(log.path, limits).catch(() => undefined);
    if (!kept) {
      notes.push(unreadableLog(log.file));
      continue;
    }
    logs.push({
      namespace: log.namespace ?? namespace,
      pod: log.pod,
      container: log.container,
      lines: kept.lines,
    });
    const cut = logCutNote(kept, limits);
    if (cut) notes.push({ what: `log of ${log.pod}/${log.container}`, why: cut });
  }
  return { logs, notes };
}

function buildSnapshot(
  by: ByKind,
  pods: Pod[],
  logs: ContainerLog[],
  skipped: readonly MissingEvidence[],
  subject: Subject,
  at: string | undefined,
): Snapshot {
  const { vmName, namespace, vm, vmi } = subject;
  const here = (o: KubeObject) => inNamespace(o, namespace);
  const migrations = sortByTime(
    by.migrations.filter((m) => here(m) && vmiNameOf(m) === vmName),
    (m) => m.metadata.creationTimestamp,
  );
  const events = eventsAbout(by.events, {
    namespace,
    vmName,
    migrationNames: migrations.map((m) => m.metadata.name),
    podNames: pods.map((p) => p.metadata.name),
  });
  const virtController = by.deployments.find(isVirtController);
  const referenced = new Set(
    (vm?.spec.template?.spec?.networks ?? vmi?.spec.networks ?? [])
      .flatMap((n) => (n.multus?.networkName ? [n.multus.networkName] : []))
      .map((ref) => (ref.includes("/") ? ref : `${namespace}/${ref}`)),
  );
  const nads = by.nads.filter(
    (n) => here(n) || referenced.has(`${n.metadata.namespace ?? namespace}/${n.metadata.name}`),
  );

  // A kvmig dump says itself what it could not read; anything else is judged by what is here.
  const info = by.infos.find(
    (i) => i.metadata.name === vmName && (i.metadata.namespace ?? namespace) === namespace,
  );
  const missing: MissingEvidence[] = [...skipped];
  const absent = (what: string) => {
    if (!info) missing.push({ what, why: "not in the directory" });
  };
  missing.push(...(info?.missing ?? []));
  if (!vm) absent(`VirtualMachine ${namespace}/${vmName}`);
  if (!vmi) absent(`VirtualMachineInstance ${namespace}/${vmName}`);
  if (by.migrations.length === 0) absent("VirtualMachineInstanceMigrations");
  if (by.pods.length === 0 && by.otherPods === 0) absent("pods");
  if (by.events.length === 0 && by.otherEvents === 0) absent("events");
  if (logs.length === 0) absent(`logs of the virt-launcher pods of ${vmName}`);
  if (by.nodes.length === 0) absent("nodes");
  if (by.kubevirts.length === 0) absent("KubeVirt resource");
  if (!virtController) absent("virt-controller Deployment (the current launcher image)");
  if (referenced.size > 0 && by.nads.length === 0) absent("NetworkAttachmentDefinitions");
  if (by.policies.length === 0) absent("MigrationPolicies");
  if (info?.canMigrate === undefined) absent("permission to migrate (SelfSubjectAccessReview)");

  // logEntries reads only the logs of the snapshot it is given.
  const logTimes = logEntries({ logs } as Pick<Snapshot, "logs"> as Snapshot).map((e) => e.time);
  const takenAt =
    at ??
    info?.takenAt ??
    newestTimestamp(
      [vm, vmi, ...migrations, ...pods, ...by.pods.filter(isHandlerPod)],
      [...events.map(eventTime), ...logTimes],
    ) ??
    new Date().toISOString();

  return {
    source: "directory",
    takenAt,
    namespace,
    vmName,
    vm,
    vmi,
    migrations,
    pods,
    handlerPods: by.pods.filter(isHandlerPod),
    events,
    logs,
    nodes: by.nodes,
    kubevirt: by.kubevirts[0],
    virtController,
    currentLauncherImage: launcherImageOf(virtController),
    networkAttachmentDefinitions: nads,
    migrationPolicies: by.policies,
    ...(by.states.length > 0 ? { nodeNetworkStates: by.states } : {}),
    rejections: [...(info?.rejections ?? []), ...by.rejections],
    canMigrate: info?.canMigrate,
    missing,
  };
}
