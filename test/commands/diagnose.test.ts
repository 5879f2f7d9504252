// kvmig diagnose in-process: flags, output formats, exit codes, with stand-in rules so that the
// command's behaviour does not depend on what the real rules find.
import { describe, expect, it, vi } from "vitest";
import type { Finding, Rule, Snapshot } from "../../src/diagnose/types.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { runCli } from "../helpers/test-context.js";

vi.mock("../../src/diagnose/modes/index.js", () => {
  const finding = (s: Snapshot, id: string, severity: Finding["severity"]): Finding => ({
    id,
    title: `${id} seen on ${s.vmName}`,
    severity,
    confidence: "high",
    summary: `summary of ${id}`,
    evidence: [{ object: `VirtualMachineInstance/${s.vmName}`, text: "evidence text" }],
    fix: { explanation: `fix for ${id}`, commands: [`kvmig restart ${s.vmName} -n ${s.namespace}`] },
    docs: "https://kubevirt.io/user-guide/",
  });
  // Fires on any snapshot whose VMI had a failed migration; silent otherwise.
  const failed: Rule = {
    id: "failed-migration",
    title: "failed",
    severity: "error",
    detect: (s) => (s.vmi?.status?.migrationState?.failed ? [finding(s, "failed-migration", "error")] : []),
  };
  const warn: Rule = {
    id: "always-warns",
    title: "warns",
    severity: "warning",
    detect: (s) => (s.vmi?.status?.migrationState ? [finding(s, "always-warns", "warning")] : []),
  };
  return { allRules: [failed, warn] };
});

const fixtures = new URL("../fixtures/diagnose-offline/", import.meta.url).pathname;

describe("kvmig diagnose --from", () => {
  it("-o json: only the report on stdout, exit 7 for an error finding, one line and a hint on stderr", async () => {
    const r = await runCli(["diagnose", "db-1", "--from", `${fixtures}kubectl-list`, "-o", "json"]);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(["status", "problems", "findings", "errors"]);
    expect(report.status).toBe("ProblemsFound");
    expect(report.problems).toBe(2);
    expect(report.findings.map((f: Finding) => f.id)).toEqual(["failed-migration", "always-warns"]);
    expect(r.code).toBe(7);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      "error: 1 finding at or above --fail-on error (failed-migration)",
      "hint: each finding above says what to do; --fail-on never makes this exit 0",
    ]);
  });

  it("--fail-on never exits 0; --fail-on warning counts warnings too", async () => {
    const never = await runCli([
      "diagnose",
      "db-1",
      "--from",
      `${fixtures}kubectl-list`,
      "--fail-on",
      "never",
    ]);
    expect(never.code).toBe(0);
    expect(never.stdout).toMatch(/^demo\/db-1: 2 problems found \(directory, at 2025-03-01T10:05:00Z\)\n/);
    const warning = await runCli([
      "diagnose",
      "db-1",
      "--from",
      `${fixtures}kubectl-list`,
      "--skip",
      "failed-migration",
      "--fail-on",
      "warning",
    ]);
    expect(warning.code).toBe(7);
    expect(warning.stderr).toMatch(/^error: 1 finding at or above --fail-on warning \(always-warns\)$/m);
  });

  it("--only picks rules; -o yaml prints the report as YAML", async () => {
    const r = await runCli([
      "diagnose",
      "db-1",
      "--from",
      `${fixtures}kubectl-list`,
      "--only",
      "always-warns",
      "-o",
      "yaml",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^status: ProblemsFound\nproblems: 1\nfindings:\n {2}- id: always-warns\n/);
  });

  it("a healthy VM: exit 0, 'no problems found' and what was checked", async () => {
    const r = await runCli(["diagnose", "--from", `${fixtures}healthy`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").slice(0, 4)).toEqual([
      "apps/web-1: no problems found (directory, at 2025-06-01T08:00:00Z)",
      "",
      "Checked 2 failure modes against:",
      "  no VM, VMI Running on node-2",
    ]);
    expect(r.stdout).toMatch(/\nCould not check:\n {2}VirtualMachine apps\/web-1: not in the directory\n/);
  });

  it.each([
    [
      ["--only", "nope"],
      2,
      '--only: unknown failure mode "nope"',
      "the failure modes are: always-warns, failed-migration",
    ],
    [
      ["--skip", "a,b"],
      2,
      '--skip: unknown failure modes "a", "b"',
      "the failure modes are: always-warns, failed-migration",
    ],
    [
      ["--fail-on", "sometimes"],
      2,
      "option '--fail-on <level>' argument 'sometimes' is invalid. Allowed choices are error, warning, never.",
      "see kvmig diagnose --help",
    ],
    [
      ["--dump", "/tmp/x"],
      2,
      "--dump cannot be combined with --from",
      "--from already reads a saved directory; copy that directory instead",
    ],
  ])("bad flags %j: exit %i, one line and a hint", async (flags, code, message, hint) => {
    const r = await runCli(["diagnose", "db-1", "--from", `${fixtures}kubectl-list`, ...flags]);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([`error: ${message}`, `hint: ${hint}`]);
  });

  it("a directory that does not exist: exit 5; a VM the directory does not hold: exit 5", async () => {
    const missing = await runCli(["diagnose", "db-1", "--from", `${fixtures}nope`]);
    expect(missing.code).toBe(5);
    expect(missing.stderr.split("\n")[0]).toBe(`error: directory "${fixtures}nope" not found`);
    const unknown = await runCli(["diagnose", "zz", "--from", `${fixtures}kubectl-list`]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr.split("\n")[0]).toBe(`error: VM "zz" not found in "${fixtures}kubectl-list"`);
  });
});

describe("kvmig diagnose (live)", () => {
  it("without a VM and without a terminal: a usage error naming the argument, nothing read", async () => {
    const kube = fakeKube({}, { namespace: "demo" });
    const r = await runCli(["diagnose"], { kube });
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      "error: missing required argument VM (the VM to diagnose)",
      "hint: kvmig diagnose VM -n NAMESPACE, or --from DIR for saved evidence; on a terminal kvmig offers a list to choose from",
    ]);
    expect(kube.calls).toEqual([]);
  });

  it("reads the VM through the cluster client and reports in the context's namespace", async () => {
    const kube = fakeKube(
      {
        get: async (resource: string, name: string, namespace?: string) => {
          expect([name, namespace]).toEqual(["db-1", "demo"]);
          if (resource === "vm") return { metadata: { name, namespace }, spec: {} } as never;
          return {
            metadata: { name, namespace, uid: "u1" },
            spec: {},
            status: { phase: "Running", migrationState: { failed: true } },
          } as never;
        },
        list: async () => [] as never,
        findKubeVirt: async () => undefined,
        findVirtController: async () => undefined,
        canI: async () => ({ allowed: true }),
      },
      { namespace: "demo" },
    );
    const r = await runCli(["diagnose", "db-1", "-o", "json", "--fail-on", "never"], { kube });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).findings.map((f: Finding) => f.title)).toEqual([
      "failed-migration seen on db-1",
      "always-warns seen on db-1",
    ]);
    kube.assertDone();
  });
});
