// Reading a directory of evidence as people actually have it: `kubectl get -o yaml` output,
// must-gather trees, `kubectl logs` saved to files. Every file is read on its own, and a file
// that cannot be read becomes a note instead of stopping the diagnosis. A must-gather can hold
// gigabytes: a manifest file is read one object at a time, and only what diagnose uses of it is
// kept (offline-manifests.ts); logs are only listed here, and the VM's own are read afterwards,
// streamed and cut down (offline-logs.ts).

import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, join, relative, sep } from "node:path";
import { NotFoundError, UsageError } from "../errors.js";
import { commandLine } from "../util/shell.js";
import { defaultLogLimits, type LogLimits } from "./offline-logs.js";
import { keepAll, type LooseObject, type ObjectFilter, readManifest } from "./offline-manifests.js";
import type { MissingEvidence } from "./types.js";

export interface EvidenceLimits extends LogLimits {
  /**
   * An object larger than this (in bytes) is skipped with a note: an item of a list, or a document
   * that is not one (a file of JSON on one line is one).
   */
  manifestBytes: number;
}

export const defaultEvidenceLimits: EvidenceLimits = {
  ...defaultLogLimits,
  manifestBytes: 16 * 1024 * 1024,
};

/** An object found in a file, with the file it came from (for messages). */
export interface FoundObject {
  object: LooseObject;
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
  /** The objects kept. */
  objects: FoundObject[];
  /** How many objects the files held, kept or not. */
  objectCount: number;
  logs: FoundLog[];
  /** Files that could not be used, and why. */
  skipped: MissingEvidence[];
  /** How many files were looked at, including ignored ones. */
  fileCount: number;
}

const manifestExtensions = new Set([".yaml", ".yml", ".json"]);
// Directories that never hold evidence but can be huge.
const ignoredDirectories = new Set([".git", "node_modules"]);

/** Reads a directory of evidence; `filter` says what is kept of the objects found (default: all). */
export async function readEvidenceDirectory(
  dir: string,
  limits: EvidenceLimits = defaultEvidenceLimits,
  filter: ObjectFilter = keepAll,
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
  const contents: DirectoryContents = {
    objects: [],
    objectCount: 0,
    logs: [],
    skipped: [],
    fileCount: files.length,
  };
  for (const file of files) {
    const name = relative(dir, file) || basename(file);
    const ext = extname(file).toLowerCase();
    if (manifestExtensions.has(ext))
      await readManifestFile(file, name, contents, limits.manifestBytes, filter);
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

async function readManifestFile(
  file: string,
  name: string,
  contents: DirectoryContents,
  maxObjectBytes: number,
  filter: ObjectFilter,
): Promise<void> {
  const text = await startIsText(file).catch(() => false);
  const read = text ? await readManifest(file, maxObjectBytes, filter).catch(() => undefined) : undefined;
  if (!read) {
    contents.skipped.push({ what: `file ${name}`, why: "not a text file, or unreadable" });
    return;
  }
  for (const object of read.objects) contents.objects.push({ object, file: name });
  contents.objectCount += read.found;
  for (const why of read.problems) contents.skipped.push({ what: `file ${name}`, why });
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
