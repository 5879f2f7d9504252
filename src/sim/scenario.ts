// Scenarios: the simulated cluster's contents as data files (`scenarios/<name>.yaml`, read at run
// time next to this module; the build copies them to dist/chunks/scenarios/; a single executable
// carries them as its assets, see scripts/sea.mjs). A file sets the
// nodes, namespaces, KubeVirt and its configuration, VMs, what happened before (earlier
// migrations, events, log lines) and the faults that future migrations run into. Times are ages
// before `now` (`3d4h`, `90s`), so a scenario always looks recent.
//
// Every field read is checked: a typo fails loudly with the file and the field's path.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, YAMLParseError } from "yaml";
import type { FaultSpec } from "./controllers/faults.js";
import type { NmstateDescription } from "./objects/nmstate.js";
import {
  type GuestOsName,
  type Json,
  launcherImageFor,
  type MigrationPolicyDescription,
  type MigrationTrigger,
  type NamespaceDescription,
  type NetworkAttachmentDefinitionDescription,
  type NodeDescription,
  type PastMigrationFailure,
  quantityBytes,
  type VmDescription,
  type VmNetworkDescription,
  type VmVolumeDescription,
} from "./objects.js";
import {
  buildSeed,
  type ClusterDescription,
  type HistoryDescription,
  type HistoryEventDescription,
  type HistoryLogDescription,
  type HistoryMigrationDescription,
  policySettings,
  type ScaleDescription,
  type SeedData,
  type VmShape,
} from "./seed.js";

export interface Scenario {
  name: string;
  description: string;
  data: SeedData;
  faults: FaultSpec[];
}

export interface ScenarioOptions {
  seed: number;
  /** Epoch ms of the simulated clock: ages in the file count back from it. */
  now: number;
  /** `scale` only: how many VMs (default: the file's `scale.defaultVms`). */
  vms?: number | undefined;
  /** Where the files are (tests); default `scenarios/` next to this module. */
  dir?: string | URL | undefined;
}

/** Next to this module: src/sim/scenarios/, or dist/chunks/scenarios/ beside the bundled chunk. */
function defaultDir(): string {
  const here = fileURLToPath(new URL("./scenarios/", import.meta.url));
  // Should this module ever be bundled into dist/kvmig.js itself, the files are one level down.
  const bundled = fileURLToPath(new URL("./chunks/scenarios/", import.meta.url));
  return existsSync(here) || !existsSync(bundled) ? here : bundled;
}

/** Where scenario files are read from: a directory, or a single executable's assets. */
interface ScenarioSource {
  names(): string[];
  /** The file's text; throws when there is none. */
  read(name: string): string;
  /** What messages call the file. */
  label(name: string): string;
}

function directorySource(dir: string | URL): ScenarioSource {
  const path = dir instanceof URL ? fileURLToPath(dir) : dir;
  const base = path.endsWith("/") ? path : `${path}/`;
  return {
    names: () =>
      readdirSync(base)
        .filter((file) => file.endsWith(".yaml"))
        .map((file) => file.slice(0, -".yaml".length)),
    read: (name) => readFileSync(`${base}${name}.yaml`, "utf8"),
    label: (name) => `${base}${name}.yaml`,
  };
}

/**
 * In a single executable (scripts/sea.mjs), its assets: `scenarios` lists the names, one a line,
 * and `scenarios/<name>.yaml` holds each file.
 */
function seaSource(): ScenarioSource | undefined {
  const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea") | undefined;
  if (!sea?.isSea()) return undefined;
  return {
    names: () =>
      String(sea.getAsset("scenarios", "utf8"))
        .split("\n")
        .filter((name) => name !== ""),
    read: (name) => String(sea.getAsset(`scenarios/${name}.yaml`, "utf8")),
    label: (name) => `scenarios/${name}.yaml (embedded)`,
  };
}

function sourceOf(dir: string | URL | undefined): ScenarioSource {
  if (dir !== undefined) return directorySource(dir);
  return seaSource() ?? directorySource(defaultDir());
}

const scenarioName = /^[a-z0-9][a-z0-9-]*$/;

/** The scenarios there are, `default` first, each with its one-line description. */
export function listScenarios(dir?: string | URL): { name: string; description: string }[] {
  const source = sourceOf(dir);
  const names = source
    .names()
    .filter((name) => scenarioName.test(name))
    .sort((a, b) => (a === "default" ? -1 : b === "default" ? 1 : a.localeCompare(b)));
  return names.map((name) => {
    const file = source.label(name);
    const root = new Field(file, "", parseYaml(file, source.read(name)));
    return { name, description: description(root.object().get("description")) };
  });
}

/** Reads a scenario and builds its objects, deterministically for `seed` and `now`. */
export function loadScenario(name: string, options: ScenarioOptions): Scenario {
  const source = sourceOf(options.dir);
  let text: string;
  try {
    if (!scenarioName.test(name)) throw new Error("not a scenario name");
    text = source.read(name);
  } catch {
    throw new Error(`unknown scenario "${name}"`);
  }
  const file = source.label(name);
  const root = new Field(file, "", parseYaml(file, text));
  const read = readScenario(root, options);
  return {
    name,
    description: read.description,
    data: buildSeed(read.cluster, options.seed),
    faults: read.faults,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading fields with their paths
// ---------------------------------------------------------------------------------------------

function parseYaml(file: string, text: string): unknown {
  try {
    return parse(text, { prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) throw new Error(`scenario file ${file}: ${error.message}`);
    throw error;
  }
}

type Obj = { get(key: string): Field; has(key: string): boolean };

/** A value in a scenario file and where it is, for messages like `nodes[1].memory: expected ...`. */
class Field {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  fail(message: string): never {
    throw new Error(`scenario file ${this.file}: ${this.path || "(top level)"}: ${message}`);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  private child(key: string | number, value: unknown): Field {
    const path = typeof key === "number" ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new Field(this.file, path, value);
  }

  /** A mapping whose keys must all be among `allowed` (when given). */
  object(allowed?: readonly string[]): Obj {
    const value = this.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail("expected a mapping");
    const record = value as Record<string, unknown>;
    if (allowed) {
      for (const key of Object.keys(record)) {
        if (!allowed.includes(key))
          this.child(key, record[key]).fail(`unknown field (known: ${allowed.join(", ")})`);
      }
    }
    return {
      get: (key) => this.child(key, record[key]),
      has: (key) => record[key] !== undefined && record[key] !== null,
    };
  }

  list(): Field[] {
    if (!this.present) return [];
    if (!Array.isArray(this.value)) this.fail("expected a list");
    return this.value.map((item, i) => this.child(i, item));
  }

  string(): string {
    if (typeof this.value !== "string" || this.value === "") this.fail("expected a non-empty string");
    return this.value;
  }

  optString(): string | undefined {
    return this.present ? this.string() : undefined;
  }

  oneOf<T extends string>(values: readonly T[]): T {
    const text = this.string();
    if (!(values as readonly string[]).includes(text)) this.fail(`expected one of ${values.join(", ")}`);
    return text as T;
  }

  optOneOf<T extends string>(values: readonly T[]): T | undefined {
    return this.present ? this.oneOf(values) : undefined;
  }

  number(options: { min?: number; max?: number; integer?: boolean } = {}): number {
    const value = this.value;
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail("expected a number");
    if (options.integer && !Number.isInteger(value)) this.fail("expected an integer");
    if (options.min !== undefined && value < options.min) this.fail(`expected at least ${options.min}`);
    if (options.max !== undefined && value > options.max) this.fail(`expected at most ${options.max}`);
    return value;
  }

  optNumber(options: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
    return this.present ? this.number(options) : undefined;
  }

  optBool(): boolean | undefined {
    if (!this.present) return undefined;
    if (typeof this.value !== "boolean") this.fail("expected true or false");
    return this.value;
  }

  /** A map of strings to strings (labels, node selectors). */
  optStringMap(): Record<string, string> | undefined {
    if (!this.present) return undefined;
    const obj = this.object();
    const out: Record<string, string> = {};
    for (const key of Object.keys(this.value as object)) {
      const item: Field = obj.get(key);
      if (typeof item.value !== "string") item.fail('expected a string (quote values like "true")');
      out[key] = item.value;
    }
    return out;
  }

  optStringList(): string[] | undefined {
    return this.present ? this.list().map((item) => item.string()) : undefined;
  }

  /** A Kubernetes quantity ("4Gi", "512Mi"). */
  optQuantity(): string | undefined {
    if (!this.present) return undefined;
    const text = this.string();
    try {
      quantityBytes(text);
    } catch {
      this.fail(`expected a quantity like 4Gi or 512Mi, not ${JSON.stringify(text)}`);
    }
    return text;
  }

  /** An age before now: `3d4h`, `5m30s`, `0s`, `1.5s`. */
  age(now: number): number {
    const text = typeof this.value === "string" ? this.value.trim() : "";
    const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text);
    if (text === "" || !match)
      this.fail(`expected an age like 3d4h, 5m30s or 0s, not ${JSON.stringify(this.value)}`);
    const [, d = "0", h = "0", m = "0", s = "0", ms = "0"] = match;
    return now - (((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s)) * 1000 - Number(ms);
  }

  optAge(now: number): number | undefined {
    return this.present ? this.age(now) : undefined;
  }
}

function description(field: Field): string {
  const text = field.string();
  if (text.includes("\n")) field.fail("expected one line");
  return text.trim();
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function name(field: Field, pattern = dnsLabel): string {
  const text = field.string();
  if (!pattern.test(text)) field.fail(`${JSON.stringify(text)} is not a valid name`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// The schema
// ---------------------------------------------------------------------------------------------

const topFields = [
  "description",
  "kubevirt",
  "nodes",
  "namespaces",
  "networkAttachmentDefinitions",
  "migrationPolicies",
  "nmstate",
  "vms",
  "history",
  "faults",
  "scale",
];

function readScenario(
  root: Field,
  options: ScenarioOptions,
): { cluster: ClusterDescription; faults: FaultSpec[]; description: string } {
  const { now } = options;
  const top = root.object(topFields);
  const desc = description(top.get("description"));
  const kubevirt = readKubeVirt(top.get("kubevirt"), now);
  const namespaces = top
    .get("namespaces")
    .list()
    .map((f) => readNamespace(f, now));
  const nodes = top
    .get("nodes")
    .list()
    .map((f) => readNode(f, now));
  const scaleField = top.get("scale");
  const scale = scaleField.present
    ? readScale(scaleField, options, kubevirt.previousLauncherImage)
    : undefined;
  if (options.vms !== undefined && !scale) {
    root.fail(`this scenario has no scale section, so the number of VMs (${options.vms}) does not apply`);
  }
  if (scale) {
    namespaces.push(...scale.namespaces);
    nodes.push(...scale.nodes);
  }
  unique(top.get("namespaces"), namespaces, (ns) => ns.name);
  unique(top.get("nodes"), nodes, (n) => n.name);
  if (nodes.length === 0) top.get("nodes").fail("a cluster needs at least one node");
  const nsNames = new Set(namespaces.map((ns) => ns.name));
  const nodeNames = new Set(nodes.map((n) => n.name));

  const nads = top
    .get("networkAttachmentDefinitions")
    .list()
    .map((f) => readNad(f, now, nsNames));
  unique(top.get("networkAttachmentDefinitions"), nads, (n) => `${n.namespace}/${n.name}`);
  const policies = top
    .get("migrationPolicies")
    .list()
    .map((f) => readPolicy(f, now));
  unique(top.get("migrationPolicies"), policies, (p) => p.name);

  const nmstate = top.get("nmstate").present ? readNmstate(top.get("nmstate"), now) : undefined;

  const images = { current: kubevirt.launcherImage, outdated: kubevirt.previousLauncherImage };
  const vmFields = top.get("vms").list();
  const vms = vmFields.map((f) => readVm(f, now, { nsNames, nodeNames, nads, images }));
  unique(top.get("vms"), vms, (vm) => `${vm.namespace}/${vm.name}`);
  const findVm = vmResolver(vms);

  const history = top.get("history").present
    ? readHistory(top.get("history"), now, findVm, nodeNames)
    : undefined;
  const faults = top
    .get("faults")
    .list()
    .map((f) => readFault(f, findVm));

  const { previousLauncherImage: _previous, ...install } = kubevirt;
  const cluster: ClusterDescription = {
    namespaces,
    nodes,
    kubevirt: install,
    networkAttachmentDefinitions: nads,
    migrationPolicies: policies,
    ...(nmstate ? { nmstate } : {}),
    vms,
    history,
    scale: scale?.description,
  };
  return { cluster, faults, description: desc };
}

function unique<T>(field: Field, items: readonly T[], key: (item: T) => string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) new Field(field.file, `${field.path}[${i}]`, item).fail(`duplicate ${k}`);
    seen.add(k);
  });
}

type KubeVirtRead = ClusterDescription["kubevirt"] & {
  launcherImage: string;
  previousLauncherImage?: string;
};

const migrationFields: Readonly<Record<string, "int" | "bool" | "string" | "quantity">> = {
  parallelMigrationsPerCluster: "int",
  parallelOutboundMigrationsPerNode: "int",
  bandwidthPerMigration: "quantity",
  completionTimeoutPerGiB: "int",
  progressTimeout: "int",
  maxDowntimeMs: "int",
  utilityVolumesTimeout: "int",
  allowAutoConverge: "bool",
  allowPostCopy: "bool",
  allowWorkloadDisruption: "bool",
  unsafeMigrationOverride: "bool",
  disableTLS: "bool",
  matchSELinuxLevelOnMigration: "bool",
  network: "string",
  nodeDrainTaintKey: "string",
};

function readMigrationSettings(field: Field, fields: Readonly<Record<string, string>>): Json | undefined {
  if (!field.present) return undefined;
  const obj = field.object(Object.keys(fields));
  const out: Json = {};
  for (const [key, type] of Object.entries(fields)) {
    const item = obj.get(key);
    if (!item.present) continue;
    if (type === "int") out[key] = item.number({ integer: true, min: 0 });
    else if (type === "bool") out[key] = item.optBool();
    else if (type === "quantity") out[key] = item.optQuantity();
    else out[key] = item.string();
  }
  return out;
}

const goDuration = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function readKubeVirt(field: Field, now: number): KubeVirtRead {
  const obj = field.object([
    "version",
    "registry",
    "namespace",
    "installedAt",
    "deployedAt",
    "launcherImage",
    "previousVersion",
    "previousLauncherImage",
    "observedVersion",
    "featureGates",
    "migrations",
    "workloadUpdateStrategy",
    "outdatedWorkloads",
  ]);
  const version = obj.get("version").optString() ?? "v1.9.0";
  const registry = obj.get("registry").optString() ?? "quay.io/kubevirt";
  const previousVersion = obj.get("previousVersion").optString();
  const strategyField = obj.get("workloadUpdateStrategy");
  let workloadUpdateStrategy: Json | undefined;
  if (strategyField.present) {
    const s = strategyField.object(["workloadUpdateMethods", "batchEvictionSize", "batchEvictionInterval"]);
    const methods = s.get("workloadUpdateMethods");
    if (!methods.present) methods.fail("required: [] for no automated updates, or LiveMigrate and/or Evict");
    const interval = s.get("batchEvictionInterval").optString();
    if (interval !== undefined && !goDuration.test(interval)) {
      s.get("batchEvictionInterval").fail("expected a duration like 1m0s");
    }
    workloadUpdateStrategy = {
      workloadUpdateMethods: methods.list().map((m) => m.oneOf(["LiveMigrate", "Evict"])),
      batchEvictionSize: s.get("batchEvictionSize").optNumber({ integer: true, min: 1 }) ?? 10,
      batchEvictionInterval: interval ?? "1m0s",
    };
  }
  return {
    createdAt: obj.get("installedAt").age(now),
    deployedAt: obj.get("deployedAt").optAge(now),
    version,
    registry,
    namespace: obj.get("namespace").optString() ?? "kubevirt",
    launcherImage: obj.get("launcherImage").optString() ?? launcherImageFor({ registry, version }),
    previousLauncherImage:
      obj.get("previousLauncherImage").optString() ??
      (previousVersion === undefined ? undefined : launcherImageFor({ registry, version: previousVersion })),
    observedVersion: obj.get("observedVersion").optString(),
    featureGates: obj.get("featureGates").optStringList(),
    migrations: readMigrationSettings(obj.get("migrations"), migrationFields),
    workloadUpdateStrategy,
    outdatedWorkloads: obj.get("outdatedWorkloads").optNumber({ integer: true, min: 0 }),
  };
}

function readNamespace(field: Field, now: number): NamespaceDescription {
  const obj = field.object(["name", "createdAt", "labels"]);
  return {
    name: name(obj.get("name")),
    createdAt: obj.get("createdAt").age(now),
    labels: obj.get("labels").optStringMap(),
  };
}

function readNode(field: Field, now: number): NodeDescription {
  const obj = field.object([
    "name",
    "createdAt",
    "heartbeatAt",
    "memory",
    "cpu",
    "ready",
    "schedulable",
    "cordoned",
    "taints",
    "role",
    "labels",
    "cpuModels",
    "hostModel",
    "kubeletVersion",
    "internalIP",
    "podCIDR",
    "osImage",
    "kernelVersion",
    "containerRuntimeVersion",
  ]);
  const podCIDR = obj.get("podCIDR").optString();
  if (podCIDR !== undefined && !/^\d+\.\d+\.\d+\.0\/24$/.test(podCIDR))
    obj.get("podCIDR").fail("expected a /24");
  return {
    name: name(obj.get("name"), dnsSubdomain),
    createdAt: obj.get("createdAt").age(now),
    heartbeatAt: obj.get("heartbeatAt").optAge(now),
    memory: obj.get("memory").optQuantity(),
    cpu: obj.get("cpu").optNumber({ integer: true, min: 1 }),
    ready: obj.get("ready").optBool(),
    schedulable: obj.get("schedulable").optBool(),
    cordoned: obj.get("cordoned").optBool(),
    taints: obj
      .get("taints")
      .list()
      .map((t) => {
        const taint = t.object(["key", "value", "effect"]);
        return {
          key: taint.get("key").string(),
          value: taint.get("value").optString(),
          effect: taint.get("effect").oneOf(["NoSchedule", "PreferNoSchedule", "NoExecute"] as const),
        };
      }),
    role: obj.get("role").optOneOf(["worker", "control-plane"] as const),
    labels: obj.get("labels").optStringMap(),
    cpuModels: obj.get("cpuModels").optStringList(),
    hostModel: obj.get("hostModel").optString(),
    kubeletVersion: obj.get("kubeletVersion").optString(),
    internalIP: obj.get("internalIP").optString(),
    podCIDR,
    osImage: obj.get("osImage").optString(),
    kernelVersion: obj.get("kernelVersion").optString(),
    containerRuntimeVersion: obj.get("containerRuntimeVersion").optString(),
  };
}

function readNad(
  field: Field,
  now: number,
  namespaces: ReadonlySet<string>,
): NetworkAttachmentDefinitionDescription {
  const obj = field.object(["name", "namespace", "createdAt", "bridge", "vlan", "config", "resourceName"]);
  const ns = obj.get("namespace");
  if (!namespaces.has(ns.string())) ns.fail(`no namespace ${ns.string()} in this scenario`);
  const config = obj.get("config").optString();
  if (config !== undefined) {
    try {
      JSON.parse(config);
    } catch {
      obj.get("config").fail("expected the CNI config as a JSON string");
    }
  }
  return {
    name: name(obj.get("name")),
    namespace: ns.string(),
    createdAt: obj.get("createdAt").age(now),
    bridge: obj.get("bridge").optString(),
    vlan: obj.get("vlan").optNumber({ integer: true, min: 0, max: 4094 }),
    config,
    ...(obj.get("resourceName").optBool() === false ? { resourceName: false } : {}),
  };
}

/** kubernetes-nmstate: when it was installed, and the bridge policies (objects/nmstate.ts). */
function readNmstate(field: Field, now: number): NmstateDescription {
  const obj = field.object(["installedAt", "policies"]);
  const policies = obj
    .get("policies")
    .list()
    .map((f) => {
      const p = f.object(["name", "createdAt", "nodeSelector", "bridge", "uplink", "vlan", "trunk"]);
      const trunk = p.get("trunk").present
        ? p
            .get("trunk")
            .list()
            .map((t) => t.number({ integer: true, min: 1, max: 4094 }))
        : undefined;
      return {
        name: name(p.get("name")),
        createdAt: p.get("createdAt").age(now),
        nodeSelector: p.get("nodeSelector").optStringMap(),
        bridge: p.get("bridge").string(),
        uplink: p.get("uplink").optString(),
        vlan: p.get("vlan").optNumber({ integer: true, min: 1, max: 4094 }),
        ...(trunk ? { trunk } : {}),
      };
    });
  unique(obj.get("policies"), policies, (p) => p.name);
  return { createdAt: obj.get("installedAt").age(now), policies };
}

function readPolicy(field: Field, now: number): MigrationPolicyDescription {
  const obj = field.object([
    "name",
    "createdAt",
    "namespaceSelector",
    "virtualMachineInstanceSelector",
    ...policySettings,
  ]);
  return {
    name: name(obj.get("name"), dnsSubdomain),
    createdAt: obj.get("createdAt").age(now),
    namespaceSelector: obj.get("namespaceSelector").optStringMap(),
    virtualMachineInstanceSelector: obj.get("virtualMachineInstanceSelector").optStringMap(),
    allowAutoConverge: obj.get("allowAutoConverge").optBool(),
    allowPostCopy: obj.get("allowPostCopy").optBool(),
    allowWorkloadDisruption: obj.get("allowWorkloadDisruption").optBool(),
    bandwidthPerMigration: obj.get("bandwidthPerMigration").optQuantity(),
    completionTimeoutPerGiB: obj.get("completionTimeoutPerGiB").optNumber({ integer: true, min: 0 }),
    maxDowntimeMs: obj.get("maxDowntimeMs").optNumber({ integer: true, min: 1, max: 2_000_000 }),
  };
}

const osNames: readonly GuestOsName[] = ["fedora", "rhel9", "centos-stream9", "cirros", "windows2022"];
const evictionStrategies = ["None", "LiveMigrate", "LiveMigrateIfPossible", "External"] as const;

/** The fields a VM and a scale shape share. */
const shapeFields = [
  "memory",
  "cpuCores",
  "dirtyRateMiBps",
  "networks",
  "volumes",
  "nodeSelector",
  "launcherNodeSelector",
  "evictionStrategy",
  "cpuModel",
  "os",
  "guestAgent",
  "labels",
  "annotations",
  "terminationGracePeriodSeconds",
];

interface VmContext {
  nsNames: ReadonlySet<string>;
  nodeNames: ReadonlySet<string>;
  nads: readonly NetworkAttachmentDefinitionDescription[];
  images: { current: string; outdated: string | undefined };
}

function readShape(
  obj: Obj,
  namespace: string | undefined,
  nads: readonly NetworkAttachmentDefinitionDescription[],
): VmShape {
  const networks = obj
    .get("networks")
    .list()
    .map((f): VmNetworkDescription => {
      const n = f.object(["name", "binding", "multus", "macAddress"]);
      const multus = n.get("multus").optString();
      if (
        multus !== undefined &&
        namespace !== undefined &&
        !nads.some((d) => d.namespace === namespace && d.name === multus)
      ) {
        n.get("multus").fail(`no NetworkAttachmentDefinition ${namespace}/${multus} in this scenario`);
      }
      const mac = n.get("macAddress").optString();
      if (mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac))
        n.get("macAddress").fail("expected a MAC address");
      return {
        name: name(n.get("name")),
        binding: n.get("binding").oneOf(["masquerade", "bridge"] as const),
        multus,
        macAddress: mac,
      };
    });
  if (obj.has("networks") && networks.length === 0)
    obj.get("networks").fail("a VM needs at least one network");
  const volumes = obj
    .get("volumes")
    .list()
    .map((f): VmVolumeDescription => {
      const v = f.object(["name", "kind", "image", "claimName", "accessMode", "size", "volumeMode"]);
      return {
        name: name(v.get("name")),
        kind: v.get("kind").oneOf(["containerDisk", "pvc", "cloudInitNoCloud"] as const),
        image: v.get("image").optString(),
        claimName: v.get("claimName").optString(),
        accessMode: v.get("accessMode").optOneOf(["ReadWriteMany", "ReadWriteOnce"] as const),
        size: v.get("size").optQuantity(),
        volumeMode: v.get("volumeMode").optOneOf(["Filesystem", "Block"] as const),
      };
    });
  if (obj.has("volumes") && volumes.length === 0) obj.get("volumes").fail("a VM needs at least one volume");
  return {
    memory: obj.get("memory").optQuantity(),
    cpuCores: obj.get("cpuCores").optNumber({ integer: true, min: 1, max: 512 }),
    dirtyRateMiBps: obj.get("dirtyRateMiBps").optNumber({ min: 0 }),
    networks: obj.has("networks") ? networks : undefined,
    volumes: obj.has("volumes") ? volumes : undefined,
    nodeSelector: obj.get("nodeSelector").optStringMap(),
    launcherNodeSelector: obj.get("launcherNodeSelector").optStringMap(),
    evictionStrategy: obj.get("evictionStrategy").optOneOf(evictionStrategies),
    cpuModel: obj.get("cpuModel").optString(),
    os: obj.get("os").optOneOf(osNames),
    guestAgent: obj.get("guestAgent").optBool(),
    labels: obj.get("labels").optStringMap(),
    annotations: obj.get("annotations").optStringMap(),
    terminationGracePeriodSeconds: obj
      .get("terminationGracePeriodSeconds")
      .optNumber({ integer: true, min: 0 }),
  };
}

function launcherImage(field: Field, images: VmContext["images"]): string {
  const value = field.optString() ?? "current";
  if (value === "current") return images.current;
  if (value === "outdated") {
    if (images.outdated === undefined)
      field.fail("outdated needs kubevirt.previousVersion or kubevirt.previousLauncherImage");
    return images.outdated;
  }
  if (!value.includes("/")) field.fail("expected current, outdated or an image reference");
  return value;
}

function readVm(field: Field, now: number, ctx: VmContext): VmDescription {
  const obj = field.object([
    "name",
    "namespace",
    "node",
    "createdAt",
    "startedAt",
    "launcherImage",
    "evacuationNodeName",
    ...shapeFields,
  ]);
  const ns = obj.get("namespace");
  if (!ctx.nsNames.has(ns.string())) ns.fail(`no namespace ${ns.string()} in this scenario`);
  const node = obj.get("node");
  if (!ctx.nodeNames.has(node.string())) node.fail(`no node ${node.string()} in this scenario`);
  const evacuation = obj.get("evacuationNodeName");
  if (evacuation.present && !ctx.nodeNames.has(evacuation.string())) {
    evacuation.fail(`no node ${evacuation.string()} in this scenario`);
  }
  const createdAt = obj.get("createdAt").age(now);
  const startedAt = obj.get("startedAt").optAge(now);
  if (startedAt !== undefined && startedAt < createdAt) obj.get("startedAt").fail("before createdAt");
  return {
    name: name(obj.get("name")),
    namespace: ns.string(),
    node: node.string(),
    createdAt,
    startedAt,
    launcherImage: launcherImage(obj.get("launcherImage"), ctx.images),
    evacuationNodeName: evacuation.optString(),
    ...readShape(obj, ns.string(), ctx.nads),
  };
}

type VmResolver = (field: Field) => VmDescription;

/** `namespace/name`, or a name that only one VM has. */
function vmResolver(vms: readonly VmDescription[]): VmResolver {
  return (field) => {
    const ref = field.string();
    const found = ref.includes("/")
      ? vms.filter((vm) => `${vm.namespace}/${vm.name}` === ref)
      : vms.filter((vm) => vm.name === ref);
    if (found.length === 0) field.fail(`no VM ${ref} in this scenario`);
    if (found.length > 1) field.fail(`more than one VM is called ${ref}; write namespace/name`);
    return found[0] as VmDescription;
  };
}

const triggers: readonly MigrationTrigger[] = ["user", "evacuation", "workloadUpdate"];
const failures: readonly PastMigrationFailure[] = ["connectionDrop", "vifCache", "aborted", "unschedulable"];

function readHistory(
  field: Field,
  now: number,
  findVm: VmResolver,
  nodeNames: ReadonlySet<string>,
): HistoryDescription {
  const obj = field.object(["migrations", "events", "logs", "eventTtl"]);
  const node = (f: Field) => {
    if (!f.present) return undefined;
    if (!nodeNames.has(f.string())) f.fail(`no node ${f.string()} in this scenario`);
    return f.string();
  };
  const migrations = obj
    .get("migrations")
    .list()
    .map((f): HistoryMigrationDescription => {
      const m = f.object([
        "vm",
        "trigger",
        "createdAt",
        "retry",
        "targetNode",
        "sourceNode",
        "result",
        "failure",
        "failureReason",
        "atProgress",
        "evacuationNode",
      ]);
      const vm = findVm(m.get("vm"));
      const retry = m.get("retry").optBool() === true;
      if (retry === m.has("createdAt")) f.fail("give either createdAt or retry: true");
      const result = m.get("result").oneOf(["Succeeded", "Failed"] as const);
      const failure = m.get("failure").optOneOf(failures);
      if (result === "Failed" && failure === undefined)
        m.get("failure").fail(`required for a Failed migration: ${failures.join(", ")}`);
      if (result === "Succeeded" && failure !== undefined)
        m.get("failure").fail("only for a Failed migration");
      const sourceNode = node(m.get("sourceNode"));
      // A VM's Succeeded moves chain: each starts where the one before it ended, the last ends on
      // the VM's node; seed.ts checks the chain and gives the nodes left out.
      if (result === "Succeeded" && sourceNode === undefined)
        m.get("sourceNode").fail(`a Succeeded migration needs the node ${vm.name} came from`);
      if (result === "Failed" && sourceNode !== undefined)
        m.get("sourceNode").fail(
          `a Failed migration starts from the node ${vm.name} was on then (the last Succeeded one's target, else ${vm.node})`,
        );
      const targetNode = node(m.get("targetNode"));
      if (targetNode !== undefined && targetNode === sourceNode)
        m.get("targetNode").fail("the target is another node");
      const trigger = m.get("trigger").optOneOf(triggers);
      const evacuationNode = node(m.get("evacuationNode"));
      if (evacuationNode !== undefined && trigger !== "evacuation")
        m.get("evacuationNode").fail("only for trigger: evacuation");
      const atProgress = m.get("atProgress").optNumber({ min: 0, max: 1 });
      if (atProgress !== undefined && failure !== "connectionDrop")
        m.get("atProgress").fail("only for failure: connectionDrop");
      const failureReason = m.get("failureReason").optString();
      if (failureReason !== undefined && failure !== "connectionDrop")
        m.get("failureReason").fail("only for failure: connectionDrop");
      return {
        namespace: vm.namespace,
        vm: vm.name,
        trigger,
        createdAt: retry ? undefined : m.get("createdAt").age(now),
        targetNode,
        sourceNode,
        result,
        failure,
        failureReason,
        atProgress,
        evacuationNode,
      };
    });
  const events = obj
    .get("events")
    .list()
    .map((f): HistoryEventDescription => {
      const e = f.object([
        "object",
        "type",
        "reason",
        "message",
        "component",
        "host",
        "count",
        "at",
        "lastAt",
      ]);
      const objectField: Field = e.get("object");
      const ref = objectField.string();
      const match =
        /^(VirtualMachine|VirtualMachineInstance|Node|KubeVirt) (?:([a-z0-9-]+)\/)?([a-z0-9.-]+)$/.exec(ref);
      if (!match)
        objectField.fail(
          "expected `<Kind> <namespace>/<name>` (VirtualMachine, VirtualMachineInstance, KubeVirt) or `Node <name>`",
        );
      const kind = match[1] as HistoryEventDescription["object"]["kind"];
      if ((kind === "Node") !== (match[2] === undefined))
        objectField.fail(kind === "Node" ? "a Node has no namespace" : `a ${kind} needs a namespace`);
      const at = e.get("at").age(now);
      const lastAt = e.get("lastAt").optAge(now);
      if (lastAt !== undefined && lastAt < at) e.get("lastAt").fail("before at");
      return {
        object: { kind, namespace: match[2], name: match[3] as string },
        type: e.get("type").optOneOf(["Normal", "Warning"] as const),
        reason: e.get("reason").string(),
        message: e.get("message").string(),
        component: e.get("component").string(),
        host: e.get("host").optString(),
        count: e.get("count").optNumber({ integer: true, min: 1 }),
        firstTimestamp: at,
        lastTimestamp: lastAt,
      };
    });
  const logs = obj
    .get("logs")
    .list()
    .map((f): HistoryLogDescription => {
      const l = f.object(["vm", "lines"]);
      const vm = findVm(l.get("vm"));
      const lines = l
        .get("lines")
        .list()
        .map((lf) => {
          const line = lf.object(["at", "level", "pos", "msg"]);
          return {
            time: line.get("at").age(now),
            level: line.get("level").oneOf(["info", "warning", "error"] as const),
            pos: line.get("pos").string(),
            msg: line.get("msg").string(),
          };
        });
      return { namespace: vm.namespace, vm: vm.name, lines };
    });
  // kube-apiserver's --event-ttl (default 1h): the events older than this are gone by now.
  const eventsAfter = obj.get("eventTtl").optAge(now);
  return { migrations, events, logs, eventsAfter };
}

function readFault(field: Field, findVm: VmResolver): FaultSpec {
  const type = field
    .object()
    .get("type")
    .oneOf(["connectionDrop", "vifCache", "targetNetworkSetup", "cpuMismatch"] as const);
  const vmRef = (obj: Obj) => {
    const f = obj.get("vm");
    if (!f.present) return undefined;
    const vm = findVm(f);
    return `${vm.namespace}/${vm.name}`;
  };
  if (type === "vifCache") {
    const obj = field.object(["type", "vm", "times"]);
    return { type, vm: vmRef(obj), times: obj.get("times").optNumber({ integer: true, min: 1 }) };
  }
  if (type === "cpuMismatch") {
    const obj = field.object(["type", "vm", "times", "features"]);
    const features = obj.get("features").optStringList();
    for (const [i, feature] of (features ?? []).entries()) {
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(feature))
        obj.get("features").list()[i]?.fail("expected a CPU feature name like vmx-rdseed-exit");
    }
    return {
      type,
      vm: vmRef(obj),
      times: obj.get("times").optNumber({ integer: true, min: 1 }),
      features,
    };
  }
  if (type === "targetNetworkSetup") {
    const obj = field.object(["type", "vm", "times", "message"]);
    return {
      type,
      vm: vmRef(obj),
      times: obj.get("times").optNumber({ integer: true, min: 1 }),
      message: obj.get("message").optString(),
    };
  }
  const obj = field.object(["type", "vm", "outdatedSourceOnly", "atProgress", "times"]);
  return {
    type,
    vm: vmRef(obj),
    outdatedSourceOnly: obj.get("outdatedSourceOnly").optBool(),
    atProgress: obj.get("atProgress").optNumber({ min: 0, max: 1 }),
    times: obj.get("times").optNumber({ integer: true, min: 1 }),
  };
}

function readScale(
  field: Field,
  options: ScenarioOptions,
  outdatedLauncherImage: string | undefined,
): { description: ScaleDescription; namespaces: NamespaceDescription[]; nodes: NodeDescription[] } {
  const { now } = options;
  const obj = field.object([
    "defaultVms",
    "maxVms",
    "vmsPerNode",
    "minNodes",
    "node",
    "namespaces",
    "namePrefix",
    "outdatedEvery",
    "createdAt",
    "shapes",
  ]);
  const maxVms = obj.get("maxVms").optNumber({ integer: true, min: 1 }) ?? 20_000;
  const count = options.vms ?? obj.get("defaultVms").number({ integer: true, min: 1, max: maxVms });
  if (!Number.isInteger(count) || count < 1 || count > maxVms) {
    throw new Error(`the number of VMs must be an integer from 1 to ${maxVms}, not ${count}`);
  }
  const perNode = obj.get("vmsPerNode").number({ integer: true, min: 1, max: 250 });
  const minNodes = obj.get("minNodes").optNumber({ integer: true, min: 1 }) ?? 3;
  const nodeCount = Math.max(minNodes, Math.ceil(count / perNode));
  const nodeObj = obj
    .get("node")
    .object(["createdAt", "heartbeatAt", "memory", "cpu", "labels", "hostModel"]);
  const nodeCreated = nodeObj.get("createdAt").age(now);
  const heartbeat = nodeObj.get("heartbeatAt").optAge(now) ?? now - 7_000;
  const nodeShape = {
    memory: nodeObj.get("memory").optQuantity(),
    cpu: nodeObj.get("cpu").optNumber({ integer: true, min: 1 }),
    labels: nodeObj.get("labels").optStringMap(),
    hostModel: nodeObj.get("hostModel").optString(),
  };
  const width = Math.max(2, String(nodeCount).length);
  const nodes: NodeDescription[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    nodes.push({
      name: `node-${String(i).padStart(width, "0")}`,
      createdAt: nodeCreated + i * 71_000,
      heartbeatAt: heartbeat - (i % 10) * 1_000,
      ...nodeShape,
      internalIP: `10.100.${Math.floor(i / 250)}.${(i % 250) + 2}`,
      podCIDR: `10.${128 + Math.floor(i / 256)}.${i % 256}.0/24`,
      ready: true,
      schedulable: true,
      role: "worker",
    });
  }
  const nsObj = obj.get("namespaces").object(["count", "prefix", "createdAt", "labels"]);
  const nsCount = nsObj.get("count").number({ integer: true, min: 1, max: 1000 });
  const prefix = nsObj.get("prefix").string();
  const nsCreated = nsObj.get("createdAt").age(now);
  const nsLabels = nsObj.get("labels").optStringMap();
  const namespaces: NamespaceDescription[] = [];
  for (let i = 1; i <= nsCount; i++) {
    const nsName = `${prefix}${String(i).padStart(Math.max(2, String(nsCount).length), "0")}`;
    if (!dnsLabel.test(nsName)) nsObj.get("prefix").fail(`${nsName} is not a valid namespace name`);
    namespaces.push({ name: nsName, createdAt: nsCreated + i * 37_000, labels: nsLabels });
  }
  const outdatedEvery = obj.get("outdatedEvery").optNumber({ integer: true, min: 0 }) ?? 0;
  if (outdatedEvery > 0 && outdatedLauncherImage === undefined) {
    obj
      .get("outdatedEvery")
      .fail("outdated VMs need kubevirt.previousVersion or kubevirt.previousLauncherImage");
  }
  const created = obj.get("createdAt").object(["oldest", "newest"]);
  const from = created.get("oldest").age(now);
  const to = created.get("newest").age(now);
  if (to < from) created.get("newest").fail("older than oldest");
  const namePrefix = obj.get("namePrefix").string();
  if (!dnsLabel.test(`${namePrefix}${count}`)) obj.get("namePrefix").fail("VM names would not be valid");
  const shapes = obj
    .get("shapes")
    .list()
    .map((f) => {
      const shape = f.object(["weight", ...shapeFields]);
      if (shape.has("networks")) {
        for (const n of shape.get("networks").list()) {
          if (n.object().has("multus"))
            n.object().get("multus").fail("scale shapes use the pod network only");
        }
      }
      return { weight: shape.get("weight").number({ min: 0 }), vm: readShape(shape, undefined, []) };
    });
  if (shapes.length === 0 || shapes.every((s) => s.weight === 0))
    obj.get("shapes").fail("needs a shape with a weight");
  return {
    description: {
      count,
      namePrefix,
      namespaces: namespaces.map((ns) => ns.name),
      nodes: nodes.map((n) => n.name),
      outdatedEvery,
      outdatedLauncherImage,
      shapes,
      createdBetween: { from, to },
    },
    namespaces,
    nodes,
  };
}
