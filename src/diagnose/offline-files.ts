// Reading a directory of evidence as people actually have it: `kubectl get -o yaml` output,
// must-gather trees, `kubectl logs` saved to files. Every file is read on its own, and a file
// that cannot be read becomes a note instead of stopping the diagnosis. A must-gather can hold
// gigabytes: a manifest file past a size limit is skipped unread (parsing YAML takes tens of
// times its size in memory), and logs are only listed here; the VM's own are read afterwards,
// streamed and cut down (offline-logs.ts).

import { open, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, relative, sep } from "node:path";
import { parseAllDocuments } from "yaml";
import { NotFoundError, UsageError } from "../errors.js";
import type { KubeObject } from "../k8s/meta.js";
import { formatBytes } from "../migration/format.js";
import { commandLine } from "../util/shell.js";
import { defaultLogLimits, type LogLimits } from "./offline-logs.js";
import type { MissingEvidence } from "./types.js";

export interface EvidenceLimits extends LogLimits {
  /** A manifest file larger than this (in bytes) is skipped unread. */
  manifestBytes: number;
}

export const defaultEvidenceLimits: EvidenceLimits = {
  ...defaultLogLimits,
  manifestBytes: 16 * 1024 * 1024,
};

/** An object found in a file, with the file it came from (for messages). */
export interface FoundObject {
  object: KubeObject & Record<string, unknown>;
  file: string;
}

/** A `.log` file of text, with the pod and container its path names; not read yet. */
export interface FoundLog {
  /** From a must-gather path (`namespaces/<ns>/pods/...`), else unknown. */
  namespace?: string | undefined;
  pod: string;
  container: string;
  /** The path from the directory given, for messages. */
  file: string;
  /** The path to read. */
  path: string;
}

export interface DirectoryContents {
  objects: FoundObject[];
  logs: FoundLog[];
  /** Files that could not be used, and why. */
  skipped: MissingEvidence[];
  /** How many files were looked at, including ignored ones. */
  fileCount: number;
}

const manifestExtensions = new Set([".yaml", ".yml", ".json"]);
// Directories that never hold evidence but can be huge.
const ignoredDirectories = new Set([".git", "node_modules"]);

export async function readEvidenceDirectory(
  dir: string,
  limits: EvidenceLimits = defaultEvidenceLimits,
): Promise<DirectoryContents> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) {
    throw new NotFoundError(`directory "${dir}" not found`, {
      hint: "give --from the directory that holds the manifests and logs",
    });
  }
  if (!info.isDirectory()) {
    throw new UsageError(`--from needs a directory, and "${dir}" is a file`, {
      hint: `copy the file into a directory of its own: mkdir evidence && ${commandLine(["cp", dir, "evidence/"])}`,
    });
  }
  const files = await listFiles(dir);
  const contents: DirectoryContents = { objects: [], logs: [], skipped: [], fileCount: files.length };
  for (const file of files) {
    const name = relative(dir, file) || basename(file);
    const ext = extname(file).toLowerCase();
    if (manifestExtensions.has(ext)) await readManifestFile(file, name, contents, limits.manifestBytes);
    else if (ext === ".log") await listLogFile(dir, file, name, contents);
  }
  return contents;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  // Sorted, so that the same directory always yields the same snapshot.
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!ignoredDirectories.has(entry.name)) files.push(...(await listFiles(path)));
    } else if (entry.isFile()) {
      files.push(path);
    }
  }
  return files;
}

/** Whether bytes are binary: a NUL byte in the first 8 KiB, as git decides. */
function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, 8192).includes(0);
}

/** Text, or undefined for a binary file. */
async function readText(file: string): Promise<string | undefined> {
  const bytes = await readFile(file);
  return isBinary(bytes) ? undefined : bytes.toString("utf8");
}

async function readManifestFile(
  file: string,
  name: string,
  contents: DirectoryContents,
  maxBytes: number,
): Promise<void> {
  const size = (await stat(file).catch(() => undefined))?.size ?? 0;
  if (size > maxBytes) {
    contents.skipped.push({
      what: `file ${name}`,
      why: `${formatBytes(size)}, larger than the ${formatBytes(maxBytes)} diagnose reads of one manifest file; skipped unread (save fewer objects per file)`,
    });
    return;
  }
  const text = await readText(file).catch(() => undefined);
  if (text === undefined) {
    contents.skipped.push({ what: `file ${name}`, why: "not a text file, or unreadable" });
    return;
  }
  const documents = parseDocuments(text, file.toLowerCase().endsWith(".json"));
  let usable = 0;
  for (const doc of documents) {
    if (doc.error !== undefined) {
      contents.skipped.push({ what: `file ${name}`, why: `not valid YAML or JSON: ${doc.error}` });
      continue;
    }
    for (const object of expandLists(doc.value)) {
      contents.objects.push({ object, file: name });
      usable++;
    }
  }
  if (usable === 0 && documents.every((d) => d.error === undefined) && text.trim() !== "") {
    contents.skipped.push({
      what: `file ${name}`,
      why: "holds no Kubernetes objects (no kind and metadata)",
    });
  }
}

interface ParsedDocument {
  value?: unknown;
  error?: string;
}

function parseDocuments(text: string, isJson: boolean): ParsedDocument[] {
  // JSON is YAML too, and JSON.parse takes a fraction of the YAML parser's time and memory: try
  // it on a .json file, and on any file that starts as JSON does (`kubectl get -o json > x.yaml`).
  if (isJson || /^\s*[[{]/.test(text)) {
    try {
      return [{ value: JSON.parse(text) as unknown }];
    } catch {
      // Files named .json are sometimes YAML (kubectl -o yaml > x.json), and flow YAML starts
      // with a brace too; the YAML parser reads both.
    }
  }
  return parseAllDocuments(text, { uniqueKeys: false }).map((doc) => {
    const first = doc.errors[0];
    if (first) return { error: first.message.split("\n")[0] ?? first.code };
    return { value: doc.toJS({ maxAliasCount: 1000 }) as unknown };
  });
}

type LooseObject = KubeObject & Record<string, unknown>;

function isKubeObject(value: unknown): value is LooseObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.kind === "string" && v.metadata !== null && typeof v.metadata === "object";
}

/** One object, or the items of a List (`kind: List`, `PodList`, ... from kubectl). */
function expandLists(value: unknown): LooseObject[] {
  if (value === null || typeof value !== "object") return [];
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.items) && (typeof v.kind !== "string" || v.kind.endsWith("List"))) {
    const listKind = typeof v.kind === "string" ? v.kind.replace(/List$/, "") : "";
    return v.items.flatMap((item) => {
      // `kubectl get pods -o yaml` items carry their kind; typed lists from the API may not.
      if (item && typeof item === "object" && !("kind" in item) && listKind !== "") {
        return expandLists({ kind: listKind, ...(item as object) });
      }
      return expandLists(item);
    });
  }
  // A Status (a refused request's body) often comes without metadata; it is evidence all the same.
  if (v.kind === "Status" && v.metadata === undefined) return [{ ...v, metadata: {} } as LooseObject];
  return isKubeObject(value) ? [value] : [];
}

/** Lists a log of text (its first 8 KiB are read to tell); the VM's logs are read later. */
async function listLogFile(root: string, file: string, name: string, contents: DirectoryContents) {
  const text = await startIsText(file).catch(() => false);
  if (!text) {
    contents.skipped.push(unreadableLog(name));
    return;
  }
  contents.logs.push({ ...logOwner(root, file), file: name, path: file });
}

/** The note for a log that is binary or cannot be read. */
export function unreadableLog(name: string): MissingEvidence {
  return { what: `log ${name}`, why: "not a text file, or unreadable" };
}

async function startIsText(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(8192), 0, 8192, 0);
    return !isBinary(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * The pod and container a log belongs to, from its path: the must-gather layout
 * `namespaces/<ns>/pods/<pod>/<container>/<container>/logs/current.log`, else
 * `<pod>/<container>.log`. A log directly in the root is taken as the pod's default
 * container, which for a virt-launcher pod is `compute` (its default-container annotation).
 */
function logOwner(root: string, file: string): { namespace?: string; pod: string; container: string } {
  const parts = relative(root, file).split(sep);
  const podsAt = parts.lastIndexOf("pods");
  if (podsAt >= 0 && parts.at(-2) === "logs" && parts.length - podsAt >= 5) {
    const pod = parts[podsAt + 1] ?? "";
    const container = parts[podsAt + 2] ?? "";
    const namespace = parts[podsAt - 2] === "namespaces" ? parts[podsAt - 1] : undefined;
    return { namespace, pod, container };
  }
  const stem = basename(file, extname(file));
  if (parts.length === 1) return { pod: stem, container: "compute" };
  return { pod: basename(dirname(file)), container: stem };
}
