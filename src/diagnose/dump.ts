// `diagnose --dump DIR`: the gathered snapshot written in the layout `--from` reads (product
// spec §5), to attach to a ticket or diagnose again elsewhere. Nothing secret leaves the
// cluster this way: Secrets are never written, and fields, annotations and text that look like
// credentials, tokens, keys, certificates or cloud-init user data are replaced.

import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { UsageError } from "../errors.js";
import type { KubeObject } from "../k8s/meta.js";
import { snapshotInfoApiVersion, snapshotInfoKind } from "./snapshot-parts.js";
import type { Snapshot } from "./types.js";

export const redacted = "<redacted by kvmig>";

// Keys whose value is secret whatever it is.
const secretKey =
  /(token|passw(or)?d|secret|private.?key|credential|kubeconfig|certificate|cert.?data|key.?data|\.crt$|\.key$|\.pem$|userdata|networkdata|ssh.?(authorized)?.?keys?|bearer|apikey|api.?key)/i;
// Annotations that hold whole copies of an object (and so whatever it held).
const droppedAnnotations = new Set(["kubectl.kubernetes.io/last-applied-configuration"]);
// Secrets inside text: PEM blocks, JWTs, Authorization headers.
const secretText: RegExp[] = [
  /-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g,
  /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];
// `token: abc`, `password=abc`: keep the name, replace the value.
const secretAssignment =
  /\b(token|password|passwd|secret|api[-_]?key)(["']?\s*[:=]\s*["']?)(?!<redacted)[^\s"',;}]+/gi;

export function scrubText(text: string): string {
  const scrubbed = secretText.reduce((t, pattern) => t.replace(pattern, redacted), text);
  return scrubbed.replace(secretAssignment, `$1$2${redacted}`);
}

/**
 * Strings under a secret-looking key are replaced whole; booleans and numbers stay (a flag such
 * as `automountServiceAccountToken: false` is not a secret), and so does the structure.
 */
function scrubValue(value: unknown, secret: boolean, depth: number): unknown {
  if (typeof value === "string") return secret ? redacted : scrubText(value);
  if (depth > 40 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secret, depth + 1));
  const record = value as Record<string, unknown>;
  // An env var or similar {name, value} pair whose name says it is secret.
  const namedSecret = typeof record.name === "string" && secretKey.test(record.name);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    if (key === "managedFields" || droppedAnnotations.has(key)) continue;
    const secretHere = secret || secretKey.test(key) || (namedSecret && key === "value");
    out[key] = scrubValue(v, secretHere, depth + 1);
  }
  return out;
}

/** A copy of an object without what looks secret. */
export function scrubObject<T>(object: T): T {
  return scrubValue(object, false, 0) as T;
}

function withKind<T extends KubeObject>(object: T, apiVersion: string, kind: string): T {
  return { ...object, apiVersion: object.apiVersion ?? apiVersion, kind: object.kind ?? kind };
}

function listDocument(items: readonly KubeObject[]): string {
  return stringify(
    { apiVersion: "v1", kind: "List", items: items.map(scrubObject) },
    { lineWidth: 0, aliasDuplicateObjects: false },
  );
}

/** Path-safe: a pod or container name never contains a slash, but a dump must not escape DIR. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
}

/**
 * `--dump DIR` takes a new or empty directory, and refuses any other before anything is gathered:
 * `diagnose --from DIR` reads every file under DIR, so a second dump there (of another VM, or
 * of the same one with other pods) would be read as one snapshot. Nothing in DIR is replaced.
 */
export async function checkDumpDir(dir: string, namespace: string, vmName: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return;
  const fresh = join(dirname(resolve(dir)), `${namespace}-${vmName}-evidence`);
  const elsewhere = `name a new or empty directory${resolve(dir) === fresh ? "" : ` (such as ${fresh})`}: diagnose --from reads every file under it`;
  if (!info.isDirectory()) {
    throw new UsageError(`--dump needs a directory, and "${dir}" is a file`, { hint: elsewhere });
  }
  const entries = await readdir(dir);
  if (entries.length === 0) return;
  const earlier = entries.includes("snapshot.yaml") ? await dumpedVm(join(dir, "snapshot.yaml")) : undefined;
  if (earlier !== undefined && earlier !== `${namespace}/${vmName}`) {
    throw new UsageError(`--dump directory "${dir}" already holds the dump of ${earlier}`, {
      hint: `${elsewhere}, so two VMs' dumps would mix`,
    });
  }
  if (earlier !== undefined) {
    throw new UsageError(`--dump directory "${dir}" already holds an earlier dump of ${earlier}`, {
      hint: `${elsewhere}, so the two dumps would mix (or remove the earlier one first)`,
    });
  }
  throw new UsageError(`--dump directory "${dir}" is not empty`, { hint: elsewhere });
}

/** "namespace/name" of the VM whose dump holds `path` (its snapshot.yaml), if it reads as one. */
async function dumpedVm(path: string): Promise<string | undefined> {
  try {
    const info = parse(await readFile(path, "utf8")) as {
      kind?: unknown;
      metadata?: Record<string, unknown>;
    };
    const name = info?.metadata?.name;
    if (info?.kind !== snapshotInfoKind || typeof name !== "string") return undefined;
    const namespace = typeof info.metadata?.namespace === "string" ? info.metadata.namespace : "default";
    return `${namespace}/${name}`;
  } catch {
    return undefined;
  }
}

/** Writes the snapshot to `dir` (new or empty, created if needed); returns the files written, relative to it. */
export async function dumpSnapshot(dir: string, s: Snapshot): Promise<string[]> {
  await checkDumpDir(dir, s.namespace, s.vmName);
  await mkdir(dir, { recursive: true });
  const files = new Map<string, string>();
  const add = (name: string, items: readonly KubeObject[]) => {
    if (items.length > 0) files.set(name, listDocument(items));
  };
  add("virtualmachines.yaml", s.vm ? [withKind(s.vm, "kubevirt.io/v1", "VirtualMachine")] : []);
  add(
    "virtualmachineinstances.yaml",
    s.vmi ? [withKind(s.vmi, "kubevirt.io/v1", "VirtualMachineInstance")] : [],
  );
  add(
    "virtualmachineinstancemigrations.yaml",
    s.migrations.map((m) => withKind(m, "kubevirt.io/v1", "VirtualMachineInstanceMigration")),
  );
  add(
    "pods.yaml",
    s.pods.map((p) => withKind(p, "v1", "Pod")),
  );
  add(
    "virt-handler-pods.yaml",
    (s.handlerPods ?? []).map((p) => withKind(p, "v1", "Pod")),
  );
  add(
    "events.yaml",
    s.events.map((e) => withKind(e, "v1", "Event")),
  );
  add(
    "nodes.yaml",
    s.nodes.map((n) => withKind(n, "v1", "Node")),
  );
  add("kubevirt.yaml", s.kubevirt ? [withKind(s.kubevirt, "kubevirt.io/v1", "KubeVirt")] : []);
  add("virt-controller.yaml", s.virtController ? [withKind(s.virtController, "apps/v1", "Deployment")] : []);
  add(
    "networkattachmentdefinitions.yaml",
    s.networkAttachmentDefinitions.map((n) =>
      withKind(n, "k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"),
    ),
  );
  add(
    "nodenetworkstates.yaml",
    (s.nodeNetworkStates ?? []).map((n) => withKind(n, "nmstate.io/v1beta1", "NodeNetworkState")),
  );
  add(
    "migrationpolicies.yaml",
    s.migrationPolicies.map((p) => withKind(p, "migrations.kubevirt.io/v1alpha1", "MigrationPolicy")),
  );
  const snapshotInfo = {
    apiVersion: snapshotInfoApiVersion,
    kind: snapshotInfoKind,
    metadata: { name: s.vmName, namespace: s.namespace },
    source: s.source,
    takenAt: s.takenAt,
    canMigrate: s.canMigrate,
    rejections: s.rejections,
    missing: s.missing,
  };
  files.set("snapshot.yaml", stringify(scrubObject(snapshotInfo), { lineWidth: 0 }));
  for (const log of s.logs) {
    const text = log.lines.map(scrubText).join("\n");
    files.set(
      join("logs", safeName(log.pod), `${safeName(log.container)}.log`),
      text === "" ? "" : `${text}\n`,
    );
  }
  for (const [name, text] of files) {
    const path = join(dir, name);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, text);
  }
  return [...files.keys()].sort();
}
