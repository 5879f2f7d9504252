// Where `kvmig sim` writes its kubeconfig, safely: the file holds the users' tokens, and the
// path may be one the user cares about (~/.kube/config) or one another local user prepared.
//
// - The default is a file in a fresh private directory (mkdtemp: mode 0700, a name no one can
//   guess or take first).
// - A given path that exists is refused unless --force; a symbolic link always is (no write ever
//   goes through a link); a directory, or a path whose parent is missing, is a usage error.
// - A new file is created with O_CREAT|O_EXCL (which never follows a link), mode 0600; with
//   --force a regular file is replaced by a fresh file written beside it and renamed over it.
// - remove() takes away what kvmig created (the file, and the private directory), and nothing
//   else: a file --force replaced stays.

import {
  type BigIntStats,
  closeSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve, sep } from "node:path";
import { UsageError } from "../errors.js";
import { shellQuote } from "../util/shell.js";

export interface KubeconfigOut {
  /** The absolute path of the kubeconfig. */
  readonly path: string;
  /** Writes the kubeconfig (once). */
  write(text: string): void;
  /** Removes the kubeconfig if kvmig created it (and the private directory); safe to repeat. */
  remove(): void;
}

const flag = "--kubeconfig-out";

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function lstatOrUndefined(path: string): Stats | undefined;
function lstatOrUndefined(path: string, bigint: true): BigIntStats | undefined;
function lstatOrUndefined(path: string, bigint = false): Stats | BigIntStats | undefined {
  try {
    return bigint ? lstatSync(path, { bigint: true }) : lstatSync(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

function cannotWrite(path: string, error: unknown): UsageError {
  const code = errnoCode(error);
  const why =
    code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : code === "EROFS"
        ? "read-only file system"
        : ((error as Error).message ?? String(error));
  return new UsageError(`cannot write ${flag} ${path}: ${why}`, { hint: `choose another ${flag} path` });
}

function alreadyExists(path: string): UsageError {
  return new UsageError(`${flag} ${path} already exists`, {
    hint: `add --force to replace it, or choose another ${flag} path`,
  });
}

function isDirectory(path: string): UsageError {
  return new UsageError(`${flag} ${path} is a directory`, {
    hint: `name a file, for example ${flag} ${shellQuote(join(path, "kubeconfig"))}`,
  });
}

/** Checks the parent directory of a path that does not exist yet. */
function checkParent(path: string): void {
  const parent = dirname(path);
  let stats: Stats;
  try {
    stats = statSync(parent);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") {
      throw new UsageError(`${flag} ${path}: the directory ${parent} does not exist`, {
        hint: `create it first (mkdir -p ${shellQuote(parent)}), or choose another ${flag} path`,
      });
    }
    if (code === "ENOTDIR") throw notADirectory(path, parent);
    throw cannotWrite(path, error);
  }
  if (!stats.isDirectory()) throw notADirectory(path, parent);
}

function notADirectory(path: string, parent: string): UsageError {
  return new UsageError(`${flag} ${path}: ${parent} is not a directory`, {
    hint: `choose another ${flag} path`,
  });
}

/** Writes all of `text` to `fd`, then flushes it to disk. */
function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset);
  fsyncSync(fd);
}

/** Creates `path` anew, mode 0600: fails with EEXIST on anything there, a link included. */
function createExclusive(path: string): number {
  return openSync(path, "wx", 0o600);
}

/**
 * Claims the place for the kubeconfig, before the cluster starts: the default private directory,
 * or the given path checked (and, when new, created empty so no one else takes it meanwhile).
 * Throws a UsageError for a path it will not write.
 */
export function claimKubeconfigOut(given: string | undefined, force: boolean): KubeconfigOut {
  if (given === undefined) return claimPrivate();
  if (given === "") {
    throw new UsageError(`${flag} needs a file path`, { hint: `for example ${flag} ./sim.kubeconfig` });
  }
  const path = resolve(given);
  let stats: Stats | undefined;
  try {
    stats = lstatOrUndefined(path);
  } catch (error) {
    if (errnoCode(error) === "ENOTDIR") checkParent(path);
    throw cannotWrite(path, error);
  }
  if (stats === undefined) {
    // "dir/" for a directory that does not exist: still a directory, not a file.
    if (given.endsWith("/") || given.endsWith(sep)) throw isDirectory(path);
    checkParent(path);
    return claimNew(path);
  }
  if (stats.isSymbolicLink()) {
    throw new UsageError(`${flag} ${path} is a symbolic link; kvmig does not write through links`, {
      hint: `choose another ${flag} path (--force does not apply to links)`,
    });
  }
  if (stats.isDirectory()) throw isDirectory(path);
  if (!force) throw alreadyExists(path);
  if (!stats.isFile()) {
    throw new UsageError(`${flag} ${path} is not a regular file`, { hint: `choose another ${flag} path` });
  }
  return claimReplace(path);
}

function claimPrivate(): KubeconfigOut {
  const dir = mkdtempSync(join(tmpdir(), "kvmig-sim-"));
  const path = join(dir, "kubeconfig");
  let fd: number | undefined;
  try {
    fd = createExclusive(path);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return created(path, fd, () => rmSync(dir, { recursive: true, force: true }));
}

function claimNew(path: string): KubeconfigOut {
  let fd: number;
  try {
    fd = createExclusive(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "EEXIST") throw alreadyExists(path); // taken between the check and now
    if (code === "EISDIR") throw isDirectory(path);
    if (code === "ENOENT") checkParent(path);
    throw cannotWrite(path, error);
  }
  return created(path, fd, undefined);
}

/** A file kvmig created (open as `fd`): removed again, if it is still the file kvmig wrote. */
function created(path: string, fd: number, removeDir: (() => void) | undefined): KubeconfigOut {
  let written = identity(fstatSync(fd, { bigint: true }));
  let open = true;
  let removed = false;
  const close = () => {
    if (open) {
      open = false;
      closeSync(fd);
    }
  };
  return {
    path,
    write(text) {
      try {
        writeAll(fd, text);
        written = identity(fstatSync(fd, { bigint: true }));
      } finally {
        close();
      }
    },
    remove() {
      close();
      if (removed) return;
      removed = true;
      if (removeDir) {
        removeDir();
        return;
      }
      // Only the file kvmig made: not what someone put at the path since (an inode number can
      // be reused at once, so its size and change time too).
      const now = lstatOrUndefined(path, true);
      if (now?.isFile() && identity(now) === written) unlinkSync(path);
    },
  };
}

function identity(stats: BigIntStats): string {
  return [stats.dev, stats.ino, stats.size, stats.ctimeNs, stats.birthtimeNs].join(":");
}

function claimReplace(path: string): KubeconfigOut {
  return {
    path,
    write(text) {
      // A fresh file beside it (same file system), renamed over the path: rename replaces the
      // directory entry itself, so a link put there meanwhile is replaced, never followed.
      const dir = dirname(path);
      const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
      const temp = join(dir, `.${basename(path)}.kvmig-${suffix}`);
      let fd: number;
      try {
        fd = createExclusive(temp);
      } catch (error) {
        throw cannotWrite(path, error);
      }
      try {
        try {
          writeAll(fd, text);
        } finally {
          closeSync(fd);
        }
        renameSync(temp, path);
      } catch (error) {
        rmSync(temp, { force: true });
        throw error;
      }
    },
    remove() {
      // The user's file, replaced at their request (--force): it stays.
    },
  };
}
