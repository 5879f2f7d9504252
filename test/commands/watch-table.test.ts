// The live table of `kvmig watch` on a terminal: redrawn in place, every line within the width,
// against a real simulated cluster (in process, over HTTPS).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simRequest } from "../helpers/sim.js";
import { onTerminal } from "../helpers/terminal-run.js";
import { runCli } from "../helpers/test-context.js";

function kubeconfigFor(sim: SimCluster): string {
  const path = join(tempDir(), "kubeconfig");
  writeFileSync(path, sim.kubeconfig(), { mode: 0o600 });
  return path;
}

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

function watchOnTerminal(args: string[], columns: number) {
  if (!cluster) throw new Error("no cluster");
  return onTerminal(cluster, args, new NonInteractivePrompter(), columns);
}

async function startTwoMigrations(sim: SimCluster) {
  for (const vm of ["fedora-web", "cirros-test"]) {
    const started = await simRequest(
      sim,
      "PUT",
      `/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/${vm}/migrate`,
      { body: {} },
    );
    expect(started.status).toBe(202);
  }
}

describe("kvmig watch on a terminal", () => {
  it.each([80, 120])(
    "redraws the table in place within %i columns until nothing is in flight",
    async (columns) => {
      cluster = await startSimCluster({ seed: 3, speed: 20 });
      await startTwoMigrations(cluster);
      const { code, stdout } = await watchOnTerminal(["watch", "-A", "--exit-on-done"], columns);
      expect(code).toBe(0);
      // Each redraw moves the cursor up over the previous table and clears below it.
      const esc = String.fromCharCode(27);
      const redraw = new RegExp(`${esc}\\[\\d+A${esc}\\[0J`);
      expect(stdout).toMatch(redraw);
      const frames = stdout.split(redraw);
      const last = stripVTControlCharacters(frames.at(-1) ?? "")
        .trimEnd()
        .split("\n");
      expect(last[0]).toMatch(
        columns >= 110
          ? /^VM +NAMESPACE +PHASE +TRIGGER +SOURCE → TARGET +ELAPSED +PROGRESS +MIGRATION$/
          : // TRIGGER would not fit in 80 columns: left out rather than cut.
            /^VM +NAMESPACE +PHASE +SOURCE → TARGET +ELAPSED +PROGRESS$/,
      );
      expect(
        last
          .slice(1)
          .map((l) => l.split(/ {2,}/).slice(0, 3).join(" "))
          .sort(),
      ).toEqual(["cirros-test demo Succeeded", "fedora-web demo Succeeded"]);
      // Started with virt-api's migrate: a user's migrations.
      if (columns >= 110) for (const line of last.slice(1)) expect(line.split(/ {2,}/)[3]).toBe("user");
      for (const frame of frames) {
        for (const line of stripVTControlCharacters(frame).split("\n"))
          expect(line.length).toBeLessThan(columns);
      }
    },
    30_000,
  );

  it("-o wide --no-headers: the migration's name and start time as columns, no column names", async () => {
    cluster = await startSimCluster({ seed: 3, speed: 20 });
    await startTwoMigrations(cluster);
    const { code, stdout } = await watchOnTerminal(
      ["watch", "-n", "demo", "-o", "wide", "--no-headers", "--exit-on-done"],
      150,
    );
    expect(code).toBe(0);
    const esc = String.fromCharCode(27);
    const frames = stdout.split(new RegExp(`${esc}\\[\\d+A${esc}\\[0J`));
    const last = stripVTControlCharacters(frames.at(-1) ?? "")
      .trimEnd()
      .split("\n");
    const names = (cluster.store.list(R.vmim.storage, "demo") as { metadata: { name: string } }[]).map(
      (m) => m.metadata.name,
    );
    expect(last).toHaveLength(2);
    for (const line of last) {
      expect(line).not.toMatch(/^VM /);
      // VM, phase, trigger, route, elapsed, progress, migration, started: relative on a terminal, to this
      // machine's clock ("12s ago"; the simulated cluster's clock runs ahead, so "in 2s" too).
      expect(line).toMatch(
        /^(fedora-web|cirros-test) +Succeeded +user +node-\d → node-\d +\S+ +- +(\S+) +(\d+[smh]\S* ago|just now|in \S+)$/,
      );
      expect(names).toContain(/ (kubevirt-migrate-vm-\w+) /.exec(line)?.[1]);
    }
  }, 30_000);

  it("-o yaml: one YAML document per change, like the NDJSON of -o json", async () => {
    cluster = await startSimCluster({ seed: 3, speed: 20 });
    await startTwoMigrations(cluster);
    const { code, stdout } = await runCli(["watch", "-n", "demo", "-o", "yaml", "--exit-on-done"], {
      env: { HOME: tempDir(), KUBECONFIG: kubeconfigFor(cluster) },
    });
    expect(code).toBe(0);
    const docs = YAML.parseAllDocuments(stdout).map((d) => d.toJS());
    expect(docs.length).toBeGreaterThanOrEqual(4);
    expect(stdout.startsWith("---\n")).toBe(true);
    for (const doc of docs) {
      expect(Object.keys(doc)).toEqual(
        expect.arrayContaining(["type", "vm", "namespace", "migration", "phase"]),
      );
    }
    const finals = docs.filter((d) => d.phase === "Succeeded").map((d) => d.vm);
    expect(new Set(finals)).toEqual(new Set(["fedora-web", "cirros-test"]));
  }, 30_000);

  it("-o wide with a VM is a usage error", async () => {
    const result = await runCli(["watch", "fedora-web", "-o", "wide"], { env: { HOME: "/nonexistent" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: -o wide is for the table of migrations, not for one VM");
  });
});
