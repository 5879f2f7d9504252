// Server-side printing: the meta.k8s.io Table the API server returns for `kubectl get`. kubectl
// renders whatever columns and cells it is sent, so the simulated server has to compute them
// exactly as kube-apiserver's printers and the apiextensions table convertor do, including the
// "<none>"/"<unknown>" placeholders and the human durations.
//
// Like the real server, every printer fills all cells, wide ones included; kubectl drops the
// priority-1 columns itself unless asked for -o wide.

import { humanDuration } from "../duration.js";
import { evaluateJsonPath } from "./jsonpath.js";

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TablePrinter {
  readonly columns: readonly ColumnDefinition[];
  /** The cells of one row, in column order; `now` is epoch ms of the (simulated) clock. */
  cells(object: Record<string, unknown>, now: number): unknown[];
}

/** A CRD's additionalPrinterColumns entry, as written in the CustomResourceDefinition. */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

type JsonObject = Record<string, unknown>;

// ObjectMeta's swagger docs, which the server uses as these columns' descriptions.
const NAME_DOC =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATION_TIMESTAMP_DOC =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

function column(
  name: string,
  type: string,
  description: string,
  priority = 0,
  format = "",
): ColumnDefinition {
  return { name, type, format, description, priority };
}

const nameColumn = (priority = 0): ColumnDefinition => column("Name", "string", NAME_DOC, priority, "name");
const ageColumn = (): ColumnDefinition => column("Age", "string", CREATION_TIMESTAMP_DOC);

// ---------------------------------------------------------------------------------------------
// Durations and timestamps

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

// Go's zero time.Time, which is what an unset metav1.Time decodes to and what IsZero() tests for.
const ZERO_TIME = utcMs(1, 1, 1, 0, 0, 0, 0);

function utcMs(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  ms: number,
): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years below 100 as 19xx.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(h, m, s, ms);
  return date.getTime();
}

/** Epoch ms of an RFC 3339 timestamp; ZERO_TIME when unset; undefined when unparseable. */
function parseTimestamp(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "" || value === "null") return ZERO_TIME;
  if (typeof value !== "string") return undefined;
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = "", zone = "Z"] = match;
  const ms = Number(fraction.padEnd(3, "0").slice(0, 3));
  const local = utcMs(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone === "Z") return local;
  const sign = zone.startsWith("-") ? -1 : 1;
  const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return local - sign * offset;
}

/** The printers' translateTimestampSince: "<unknown>" for an unset time. */
function since(timestamp: unknown, now: number): string {
  const time = parseTimestamp(timestamp) ?? ZERO_TIME;
  if (time === ZERO_TIME) return "<unknown>";
  return humanDuration(now - time);
}

/** Go's time.Format(time.RFC3339) of a UTC time: whole seconds, "Z". */
function formatRfc3339(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}Z`
  );
}

// ---------------------------------------------------------------------------------------------
// Reading untyped objects with the zero values Go's typed decoding would give

function obj(value: unknown): JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

function list(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.map(obj) : [];
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function int(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : 0;
}

function metadata(object: JsonObject): JsonObject {
  return obj(object.metadata);
}

function objectName(object: JsonObject): string {
  return str(metadata(object).name);
}

function creationAge(object: JsonObject, now: number): string {
  return since(metadata(object).creationTimestamp, now);
}

/** Go's default byte-wise string ordering, which sort.Strings and sets.List use. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Custom resources: the apiextensions-apiserver table convertor

/** The printer apiextensions builds from a CRD version's additionalPrinterColumns. */
export function customResourcePrinter(printerColumns: readonly PrinterColumn[]): TablePrinter {
  // A CRD version that declares no columns is served with just its age.
  const declared: readonly PrinterColumn[] =
    printerColumns.length > 0
      ? printerColumns
      : [
          {
            name: "Age",
            type: "date",
            jsonPath: ".metadata.creationTimestamp",
            description: CREATION_TIMESTAMP_DOC,
          },
        ];
  for (const c of declared) evaluateJsonPath({}, c.jsonPath); // fail at definition time on a bad path
  const columns = [
    nameColumn(),
    ...declared.map((c) =>
      column(
        c.name,
        c.type,
        c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
        c.priority ?? 0,
        c.format ?? "",
      ),
    ),
  ];
  return {
    columns,
    cells(object, now) {
      return [objectName(object), ...declared.map((c) => customCell(c, object, now))];
    },
  };
}

function customCell(c: PrinterColumn, object: JsonObject, now: number): unknown {
  // Only the first match is shown, so a filter that matches two conditions shows the first.
  const results = evaluateJsonPath(object, c.jsonPath);
  if (results.length === 0) return null;
  const value = results[0];
  switch (c.type) {
    case "string":
      return printJsonPathValue(value);
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date": {
      if (typeof value !== "string") return null;
      const time = parseTimestamp(value);
      if (time === undefined) return "<invalid>";
      return time === ZERO_TIME ? "<unknown>" : humanDuration(now - time);
    }
    default:
      return null;
  }
}

/** How client-go's JSONPath prints one value: structures as JSON, null as "<no value>". */
function printJsonPathValue(value: unknown): string {
  if (value === null || value === undefined) return "<no value>";
  if (typeof value === "object") return goJson(value);
  if (typeof value === "number") return goNumber(value);
  return String(value);
}

/** fmt.Print of a decoded JSON number: exponent form below 1e-4 and from 1e21, with two exponent digits. */
function goNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude === 0 || (magnitude >= 1e-4 && magnitude < 1e21)) return String(value);
  const [mantissa = "", exponent = "0"] = value.toExponential().split("e");
  const e = Number(exponent);
  return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/** encoding/json output: sorted object keys and HTML-safe escaping. */
function goJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (typeof v === "object" && v !== null) {
      const entries = Object.entries(v as JsonObject).sort(([a], [b]) => byteOrder(a, b));
      return Object.fromEntries(entries.map(([k, inner]) => [k, sortKeys(inner)]));
    }
    return v;
  };
  return JSON.stringify(sortKeys(value))
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

// KubeVirt's columns, from virt-operator's CRD definitions (pkg/virt-operator/resource/generate/components/crds.go).
const CREATION_TIMESTAMP_PATH = ".metadata.creationTimestamp";
const kubevirtColumns: Record<string, PrinterColumn[]> = {
  virtualmachines: [
    { name: "Age", type: "date", jsonPath: CREATION_TIMESTAMP_PATH },
    {
      name: "Status",
      type: "string",
      jsonPath: ".status.printableStatus",
      description: "Human Readable Status",
    },
    { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
  ],
  virtualmachineinstances: [
    { name: "Age", type: "date", jsonPath: CREATION_TIMESTAMP_PATH },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "IP", type: "string", jsonPath: ".status.interfaces[0].ipAddress" },
    { name: "NodeName", type: "string", jsonPath: ".status.nodeName" },
    { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
    {
      name: "Live-Migratable",
      type: "string",
      jsonPath: ".status.conditions[?(@.type=='LiveMigratable')].status",
      priority: 1,
    },
    {
      name: "Paused",
      type: "string",
      jsonPath: ".status.conditions[?(@.type=='Paused')].status",
      priority: 1,
    },
  ],
  virtualmachineinstancemigrations: [
    {
      name: "Phase",
      type: "string",
      jsonPath: ".status.phase",
      description: "The current phase of VM instance migration",
    },
    {
      name: "VMI",
      type: "string",
      jsonPath: ".spec.vmiName",
      description: "The name of the VMI to perform the migration on",
    },
  ],
  kubevirts: [
    { name: "Age", type: "date", jsonPath: CREATION_TIMESTAMP_PATH },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
  ],
};

// ---------------------------------------------------------------------------------------------
// kube-apiserver's printers (pkg/printers/internalversion)

const podPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "string", "The aggregate status of the containers in this pod."),
    column(
      "Restarts",
      "string",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    ageColumn(),
    column(
      "IP",
      "string",
      "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
      1,
    ),
    column(
      "Node",
      "string",
      "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
      1,
    ),
    column(
      "Nominated Node",
      "string",
      "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
      1,
    ),
    column(
      "Readiness Gates",
      "string",
      'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
      1,
    ),
  ],
  cells: podCells,
};

function conditionStatus(conditions: JsonObject[], type: string): string | undefined {
  const condition = conditions.find((c) => c.type === type);
  return condition === undefined ? undefined : str(condition.status);
}

function podCells(pod: JsonObject, now: number): unknown[] {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const conditions = list(status.conditions);
  const initContainers = list(spec.initContainers);
  const containers = list(spec.containers);
  // Sidecars (restartable init containers) run for the pod's lifetime, so they count as containers.
  const sidecars = new Set(
    initContainers.filter((c) => c.restartPolicy === "Always").map((c) => str(c.name)),
  );

  let restarts = 0;
  let sidecarRestarts = 0;
  let readyContainers = 0;
  const totalContainers = containers.length + sidecars.size;
  let lastRestart = ZERO_TIME;
  let lastSidecarRestart = ZERO_TIME;

  const phase = str(status.phase);
  let reason = str(status.reason) || phase;
  if (conditions.some((c) => c.type === "PodScheduled" && c.reason === "SchedulingGated")) {
    reason = "SchedulingGated";
  }

  const lastTermination = (containerStatus: JsonObject): number | undefined => {
    const terminated = obj(containerStatus.lastState).terminated;
    if (terminated === undefined || terminated === null) return undefined;
    return parseTimestamp(obj(terminated).finishedAt) ?? ZERO_TIME;
  };

  let initializing = false;
  const initStatuses = list(status.initContainerStatuses);
  for (const [i, container] of initStatuses.entries()) {
    const count = int(container.restartCount);
    restarts += count;
    const finished = lastTermination(container);
    if (finished !== undefined && finished > lastRestart) lastRestart = finished;
    const isSidecar = sidecars.has(str(container.name));
    if (isSidecar) {
      sidecarRestarts += count;
      if (finished !== undefined && finished > lastSidecarRestart) lastSidecarRestart = finished;
    }
    const state = obj(container.state);
    const terminated =
      state.terminated === undefined || state.terminated === null ? undefined : obj(state.terminated);
    const waiting = state.waiting === undefined || state.waiting === null ? undefined : obj(state.waiting);
    if (terminated !== undefined && int(terminated.exitCode) === 0) continue;
    if (isSidecar && container.started === true) {
      if (container.ready === true) readyContainers++;
      continue;
    }
    if (terminated !== undefined) {
      const terminatedReason = str(terminated.reason);
      if (terminatedReason !== "") reason = `Init:${terminatedReason}`;
      else if (int(terminated.signal) !== 0) reason = `Init:Signal:${int(terminated.signal)}`;
      else reason = `Init:ExitCode:${int(terminated.exitCode)}`;
    } else if (waiting !== undefined && str(waiting.reason) !== "" && waiting.reason !== "PodInitializing") {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionStatus(conditions, "Initialized") === "True") {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = list(status.containerStatuses);
    // Walked backwards so that the first container's state is the one that ends up shown.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i] ?? {};
      restarts += int(container.restartCount);
      const finished = lastTermination(container);
      if (finished !== undefined && finished > lastRestart) lastRestart = finished;
      const state = obj(container.state);
      const waiting = state.waiting === undefined || state.waiting === null ? undefined : obj(state.waiting);
      const terminated =
        state.terminated === undefined || state.terminated === null ? undefined : obj(state.terminated);
      if (waiting !== undefined && str(waiting.reason) !== "") {
        reason = str(waiting.reason);
      } else if (terminated !== undefined && str(terminated.reason) !== "") {
        reason = str(terminated.reason);
      } else if (terminated !== undefined) {
        reason =
          int(terminated.signal) !== 0
            ? `Signal:${int(terminated.signal)}`
            : `ExitCode:${int(terminated.exitCode)}`;
      } else if (container.ready === true && state.running !== undefined && state.running !== null) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose first container completed while another still runs is not "Completed".
    if (reason === "Completed" && hasRunning) {
      reason = conditionStatus(conditions, "Ready") === "True" ? "Running" : "NotReady";
    }
  }

  const deleting = metadata(pod).deletionTimestamp !== undefined && metadata(pod).deletionTimestamp !== null;
  if (deleting && status.reason === "NodeLost") reason = "Unknown";
  else if (deleting && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";

  const restartsCell =
    restarts !== 0 && lastRestart !== ZERO_TIME
      ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
      : String(restarts);

  const podIP = str(list(status.podIPs)[0]?.ip) || "<none>";
  const nodeName = str(spec.nodeName) || "<none>";
  const nominatedNodeName = str(status.nominatedNodeName) || "<none>";
  const gates = list(spec.readinessGates);
  let readinessGates = "<none>";
  if (gates.length > 0) {
    const passed = gates.filter(
      (gate) => conditionStatus(conditions, str(gate.conditionType)) === "True",
    ).length;
    readinessGates = `${passed}/${gates.length}`;
  }

  return [
    objectName(pod),
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsCell,
    creationAge(pod, now),
    podIP,
    nodeName,
    nominatedNodeName,
    readinessGates,
  ];
}

const ADDRESSES_DOC =
  "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

const nodePrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column("Status", "string", "The status of the node"),
    column("Roles", "string", "The roles of the node"),
    ageColumn(),
    column("Version", "string", "Kubelet Version reported by the node."),
    column("Internal-IP", "string", ADDRESSES_DOC, 1),
    column("External-IP", "string", ADDRESSES_DOC, 1),
    column(
      "OS-Image",
      "string",
      "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
      1,
    ),
    column(
      "Kernel-Version",
      "string",
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    column(
      "Container-Runtime",
      "string",
      "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      1,
    ),
  ],
  cells(node, now) {
    const status = obj(node.status);
    // With duplicate Ready conditions the last one wins, as in the server's condition map.
    const ready = list(status.conditions)
      .filter((c) => c.type === "Ready")
      .at(-1);
    const states = ready === undefined ? ["Unknown"] : [ready.status === "True" ? "Ready" : "NotReady"];
    if (obj(node.spec).unschedulable === true) states.push("SchedulingDisabled");

    const roles = new Set<string>();
    for (const [key, value] of Object.entries(obj(metadata(node).labels))) {
      if (key.startsWith("node-role.kubernetes.io/")) {
        const role = key.slice("node-role.kubernetes.io/".length);
        if (role !== "") roles.add(role);
      } else if (key === "kubernetes.io/role" && str(value) !== "") {
        roles.add(str(value));
      }
    }

    const info = obj(status.nodeInfo);
    const address = (type: string) =>
      str(list(status.addresses).find((a) => a.type === type)?.address) || "<none>";
    return [
      objectName(node),
      states.join(","),
      [...roles].sort(byteOrder).join(",") || "<none>",
      creationAge(node, now),
      str(info.kubeletVersion),
      address("InternalIP"),
      address("ExternalIP"),
      str(info.osImage) || "<unknown>",
      str(info.kernelVersion) || "<unknown>",
      str(info.containerRuntimeVersion) || "<unknown>",
    ];
  },
};

const namespacePrinter: TablePrinter = {
  columns: [nameColumn(), column("Status", "string", "The status of the namespace"), ageColumn()],
  cells(namespace, now) {
    return [objectName(namespace), str(obj(namespace.status).phase), creationAge(namespace, now)];
  },
};

const eventColumns: readonly ColumnDefinition[] = [
  column("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
  column("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
  column(
    "Reason",
    "string",
    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  ),
  column("Object", "string", "The object that this event is about."),
  column(
    "Subobject",
    "string",
    'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
    1,
  ),
  column(
    "Source",
    "string",
    "The component reporting this event. Should be a short machine understandable string.",
    1,
  ),
  column("Message", "string", "A human-readable description of the status of this operation."),
  column(
    "First Seen",
    "string",
    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    1,
  ),
  column("Count", "string", "The number of times this event has occurred.", 1),
  nameColumn(1),
];

/** The fields the server's internal Event type holds, whichever API version the event came in. */
interface EventFields {
  involvedObject: JsonObject;
  message: string;
  source: JsonObject;
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  count: number;
  eventTime: unknown;
  series: JsonObject | undefined;
  reportingController: string;
  reportingInstance: string;
}

function coreEventFields(event: JsonObject): EventFields {
  return {
    involvedObject: obj(event.involvedObject),
    message: str(event.message),
    source: obj(event.source),
    firstTimestamp: event.firstTimestamp,
    lastTimestamp: event.lastTimestamp,
    count: int(event.count),
    eventTime: event.eventTime,
    series: event.series === undefined || event.series === null ? undefined : obj(event.series),
    reportingController: str(event.reportingComponent),
    reportingInstance: str(event.reportingInstance),
  };
}

// events.k8s.io/v1 is stored and printed as the core Event; these are the conversion's renames.
function eventsV1Fields(event: JsonObject): EventFields {
  return {
    involvedObject: obj(event.regarding),
    message: str(event.note),
    source: obj(event.deprecatedSource),
    firstTimestamp: event.deprecatedFirstTimestamp,
    lastTimestamp: event.deprecatedLastTimestamp,
    count: int(event.deprecatedCount),
    eventTime: event.eventTime,
    series: event.series === undefined || event.series === null ? undefined : obj(event.series),
    reportingController: str(event.reportingController),
    reportingInstance: str(event.reportingInstance),
  };
}

function eventPrinter(fields: (event: JsonObject) => EventFields): TablePrinter {
  return {
    columns: eventColumns,
    cells(event, now) {
      const e = fields(event);
      const firstSeenAt = parseTimestamp(e.firstTimestamp) ?? ZERO_TIME;
      const firstSeen = firstSeenAt === ZERO_TIME ? since(e.eventTime, now) : since(e.firstTimestamp, now);
      const lastSeenAt = parseTimestamp(e.lastTimestamp) ?? ZERO_TIME;
      let lastSeen = lastSeenAt === ZERO_TIME ? firstSeen : since(e.lastTimestamp, now);
      let count = e.count;
      if (e.series !== undefined) {
        lastSeen = since(e.series.lastObservedTime, now);
        count = int(e.series.count);
      } else if (count === 0) {
        // Events written through events.k8s.io carry no count when they happened once.
        count = 1;
      }
      const kind = str(e.involvedObject.kind).toLowerCase();
      const name = str(e.involvedObject.name);
      const component = str(e.source.component) || e.reportingController;
      const instance = str(e.source.host) || e.reportingInstance;
      return [
        lastSeen,
        str(event.type),
        str(event.reason),
        name === "" ? kind : `${kind}/${name}`,
        str(e.involvedObject.fieldPath),
        instance === "" ? component : `${component}, ${instance}`,
        e.message.trim(),
        firstSeen,
        count,
        objectName(event),
      ];
    },
  };
}

const deploymentPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column("Ready", "string", "Number of the pod with ready state"),
    column(
      "Up-to-date",
      "string",
      "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    column(
      "Available",
      "string",
      "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    ageColumn(),
    column("Containers", "string", "Names of each container in the template.", 1),
    column("Images", "string", "Images referenced by each container in the template.", 1),
    column(
      "Selector",
      "string",
      "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
      1,
    ),
  ],
  cells(deployment, now) {
    const spec = obj(deployment.spec);
    const status = obj(deployment.status);
    // The API server defaults an absent replica count to 1 before storing the object.
    const desired = typeof spec.replicas === "number" ? int(spec.replicas) : 1;
    const containers = list(obj(obj(spec.template).spec).containers);
    return [
      objectName(deployment),
      `${int(status.readyReplicas)}/${desired}`,
      int(status.updatedReplicas),
      int(status.availableReplicas),
      creationAge(deployment, now),
      containers.map((c) => str(c.name)).join(","),
      containers.map((c) => str(c.image)).join(","),
      formatLabelSelector(spec.selector),
    ];
  },
};

/** metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key. */
function formatLabelSelector(value: unknown): string {
  if (value === undefined || value === null) return "";
  const selector = obj(value);
  const requirements: { key: string; text: string }[] = [];
  for (const [key, v] of Object.entries(obj(selector.matchLabels))) {
    requirements.push({ key, text: `${key}=${str(v)}` });
  }
  for (const expression of list(selector.matchExpressions)) {
    const key = str(expression.key);
    const values = (Array.isArray(expression.values) ? expression.values.map(str) : []).sort(byteOrder);
    switch (expression.operator) {
      case "In":
        requirements.push({ key, text: `${key} in (${values.join(",")})` });
        break;
      case "NotIn":
        requirements.push({ key, text: `${key} notin (${values.join(",")})` });
        break;
      case "Exists":
        requirements.push({ key, text: key });
        break;
      case "DoesNotExist":
        requirements.push({ key, text: `!${key}` });
        break;
      default:
        return "<invalid>";
    }
  }
  return requirements
    .sort((a, b) => byteOrder(a.key, b.key))
    .map((r) => r.text)
    .join(",");
}

/** rest.NewDefaultTableConvertor: what the server sends for a resource without a printer. */
const defaultPrinter: TablePrinter = {
  columns: [nameColumn(), column("Created At", "date", CREATION_TIMESTAMP_DOC)],
  cells(object) {
    const created = parseTimestamp(metadata(object).creationTimestamp) ?? ZERO_TIME;
    return [objectName(object), formatRfc3339(created)];
  },
};

/** RoleBindings and ClusterRoleBindings (printRoleBinding): the role, and the subjects when wide. */
const roleBindingPrinter: TablePrinter = {
  columns: [
    nameColumn(),
    column(
      "Role",
      "string",
      "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.",
    ),
    ageColumn(),
    column("Users", "string", "Users in the roleBinding", 1),
    column("Groups", "string", "Groups in the roleBinding", 1),
    column("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
  ],
  cells(binding, now) {
    const ref = obj(binding.roleRef);
    const subjects = list(binding.subjects);
    const names = (kind: string) =>
      subjects
        .filter((s) => s.kind === kind)
        .map((s) =>
          kind === "ServiceAccount" && str(s.namespace) !== ""
            ? `${str(s.namespace)}/${str(s.name)}`
            : str(s.name),
        )
        .join(", ");
    return [
      objectName(binding),
      `${str(ref.kind)}/${str(ref.name)}`,
      creationAge(binding, now),
      names("User"),
      names("Group"),
      names("ServiceAccount"),
    ];
  },
};

const printers = new Map<string, TablePrinter>([
  ["rbac.authorization.k8s.io/rolebindings", roleBindingPrinter],
  ["rbac.authorization.k8s.io/clusterrolebindings", roleBindingPrinter],
  ["/pods", podPrinter],
  ["/nodes", nodePrinter],
  ["/namespaces", namespacePrinter],
  ["/events", eventPrinter(coreEventFields)],
  ["events.k8s.io/events", eventPrinter(eventsV1Fields)],
  ["apps/deployments", deploymentPrinter],
  ["migrations.kubevirt.io/migrationpolicies", customResourcePrinter([])],
  ["k8s.cni.cncf.io/network-attachment-definitions", customResourcePrinter([])],
  // kubernetes-nmstate's CRDs (deploy/crds/nmstate.io_*.yaml): the states declare no columns.
  ["nmstate.io/nodenetworkstates", customResourcePrinter([])],
  [
    "nmstate.io/nodenetworkconfigurationpolicies",
    customResourcePrinter([
      {
        name: "Status",
        type: "string",
        jsonPath: '.status.conditions[?(@.status=="True")].type',
        description: "Status",
      },
      {
        name: "Reason",
        type: "string",
        jsonPath: '.status.conditions[?(@.status=="True")].reason',
        description: "Reason",
      },
    ]),
  ],
  [
    "nmstate.io/nodenetworkconfigurationenactments",
    customResourcePrinter([
      {
        name: "Status",
        type: "string",
        jsonPath: '.status.conditions[?(@.status=="True")].type',
        description: "Status",
      },
      {
        name: "Status Age",
        type: "date",
        jsonPath: '.status.conditions[?(@.status=="True")].lastTransitionTime',
        description: "Status Age",
      },
      {
        name: "Reason",
        type: "string",
        jsonPath: '.status.conditions[?(@.status=="True")].reason',
        description: "Reason",
      },
    ]),
  ],
  ...Object.entries(kubevirtColumns).map(
    ([plural, columns]) => [`kubevirt.io/${plural}`, customResourcePrinter(columns)] as const,
  ),
]);

/** The printer the API server uses for this resource; `group` is "" for core. */
export function tablePrinter(group: string, plural: string): TablePrinter {
  return printers.get(`${group}/${plural}`) ?? defaultPrinter;
}

// ---------------------------------------------------------------------------------------------
// The Table object

/** The Table for a list (rows carry PartialObjectMetadata, as with the server's default includeObject=Metadata). */
export function toTable(
  printer: TablePrinter,
  objects: readonly Record<string, unknown>[],
  now: number,
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  includeObject: "None" | "Metadata" | "Object" = "Metadata",
  apiVersion: "meta.k8s.io/v1" | "meta.k8s.io/v1beta1" = "meta.k8s.io/v1",
): Record<string, unknown> {
  const tableMetadata: Record<string, unknown> = {};
  if (listMeta.resourceVersion) tableMetadata.resourceVersion = listMeta.resourceVersion;
  if (listMeta.continue) tableMetadata.continue = listMeta.continue;
  if (listMeta.remainingItemCount !== undefined)
    tableMetadata.remainingItemCount = listMeta.remainingItemCount;
  const rows = objects.map((object) => {
    const row: Record<string, unknown> = { cells: printer.cells(object, now) };
    if (includeObject === "Object") {
      row.object = object;
    } else if (includeObject === "Metadata") {
      // The server stamps the partial object with the Table's own group version.
      row.object = { kind: "PartialObjectMetadata", apiVersion, metadata: structuredClone(metadata(object)) };
    }
    return row;
  });
  return {
    kind: "Table",
    apiVersion,
    metadata: tableMetadata,
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
