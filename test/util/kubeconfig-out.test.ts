// Where `kvmig sim` writes its kubeconfig (src/util/kubeconfig-out.ts): the races the
// end-to-end tests (test/e2e/sim.test.ts) cannot time — a link or file put at the path between
// the check and the write, or after it — and the modes of the default's directory and file.
import {
  lstatSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { claimKubeconfigOut } from "../../src/util/kubeconfig-out.js";
import { tempDir } from "../helpers/kubeconfig.js";

let home: string;
let savedTmpdir: string | undefined;
beforeEach(() => {
  home = tempDir();
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = home;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

describe("claimKubeconfigOut", () => {
  it("the default: a file 0600 in a new private directory 0700 under TMPDIR, both removed", () => {
    const out = claimKubeconfigOut(undefined, false);
    const dir = dirname(out.path);
    expect(dirname(dir)).toBe(home);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    expect(lstatSync(out.path).mode & 0o777).toBe(0o600);
    out.write("apiVersion: v1\n");
    expect(readFileSync(out.path, "utf8")).toBe("apiVersion: v1\n");
    // Two sims never share a directory.
    const other = claimKubeconfigOut(undefined, false);
    expect(dirname(other.path)).not.toBe(dir);
    out.remove();
    other.remove();
    out.remove();
    expect(() => lstatSync(dir)).toThrow(/ENOENT/);
  });

  it("a new path is taken at once (0600, empty), so no one can put a link there before the write", () => {
    const path = join(home, "kubeconfig");
    const out = claimKubeconfigOut(path, false);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(() => claimKubeconfigOut(path, false)).toThrow(UsageError);
    out.write("tokens\n");
    out.remove();
    expect(() => lstatSync(path)).toThrow(/ENOENT/);
  });

  it("remove() leaves a file someone else put at the path since", () => {
    const path = join(home, "kubeconfig");
    const out = claimKubeconfigOut(path, false);
    out.write("tokens\n");
    unlinkSync(path);
    writeFileSync(path, "the user's own\n");
    out.remove();
    expect(readFileSync(path, "utf8")).toBe("the user's own\n");
  });

  it("--force: a link put at the path after the check is replaced, never written through", () => {
    const path = join(home, "config");
    const victim = join(home, "victim");
    writeFileSync(path, "old\n");
    writeFileSync(victim, "not yours\n");
    const out = claimKubeconfigOut(path, true);
    unlinkSync(path);
    symlinkSync(victim, path);
    out.write("tokens\n");
    expect(readFileSync(victim, "utf8")).toBe("not yours\n");
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("tokens\n");
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    out.remove();
    expect(readFileSync(path, "utf8")).toBe("tokens\n");
  });

  it("a link is refused even with --force, and the link and its target stay as they were", () => {
    const target = join(home, "real");
    writeFileSync(target, "contexts\n");
    const link = join(home, "link");
    symlinkSync(target, link);
    expect(() => claimKubeconfigOut(link, true)).toThrow(
      `--kubeconfig-out ${link} is a symbolic link; kvmig does not write through links`,
    );
    expect(readlinkSync(link)).toBe(target);
    renameSync(target, `${target}.moved`);
    expect(() => claimKubeconfigOut(link, false)).toThrow(/is a symbolic link/);
  });
});
