// diagnose --from on manifest files larger than the limit (issue 19, item 10): a file is read one
// object at a time, so the VM's launcher pod in a `kubectl get pods -A -o yaml` many times the
// limit, or its event among thousands of documents, is found, and the diagnosis is the fixture's
// own; only an object over the limit is skipped, with a note. What nothing reads is dropped as
// it is read (ObjectKeeper) without changing any diagnosis. The limit is lowered to 64 KiB so
// that a few hundred KiB stand in for the tens of MiB of a must-gather.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { runRules } from "../../src/diagnose/engine.js";
import { allRules } from "../../src/diagnose/modes/index.js";
import { loadSnapshotFromDir, type OfflineOptions } from "../../src/diagnose/offline.js";
import { defaultEvidenceLimits } from "../../src/diagnose/offline-files.js";
import { ObjectKeeper } from "../../src/diagnose/offline-keep.js";
import type { LooseObject } from "../../src/diagnose/offline-manifests.js";
import { formatDiagnosis } from "../../src/diagnose/render.js";
import { UsageError } from "../../src/errors.js";
import { diagnoseFixturesDir, fixtureDir } from "../helpers/diagnose.js";
import { tempDir } from "../helpers/kubeconfig.js";

const mode = "not-converging";
const caseName = "v1.9-aborted-dirty-rate-above-bandwidth";
const limits = { ...defaultEvidenceLimits, manifestBytes: 64 * 1024 };
const KiB = 1024;

async function diagnose(dir: string, options: OfflineOptions = {}) {
  const snapshot = await loadSnapshotFromDir(dir, options);
  const report = runRules(snapshot, allRules);
  return {
    snapshot,
    text: `${formatDiagnosis(report, snapshot, { rulesRun: allRules.length }).join("\n")}\n`,
  };
}

const expectedText = () => readFileSync(join(diagnoseFixturesDir, mode, caseName, "expected.txt"), "utf8");

/** A pod of about 2 KiB that KubeVirt has no hand in. */
function otherPod(i: number): LooseObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `web-${i}`, namespace: `team-${i % 7}`, uid: `uid-${i}`, labels: { app: "web" } },
    spec: {
      containers: [
        {
          name: "web",
          image: "registry.example.com/web:1",
          env: Array.from({ length: 30 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}` })),
        },
      ],
    },
  };
}

/** An event about another VM's VMI. */
function otherEvent(i: number): LooseObject {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `vm-${i}.${i}`, namespace: "data" },
    involvedObject: { kind: "VirtualMachineInstance", name: `vm-${i}`, namespace: "data" },
    reason: "SyncOK",
    type: "Normal",
    message: `VirtualMachineInstance synchronized (${i})`,
    lastTimestamp: "2025-06-10T13:00:00Z",
  };
}

/**
 * The fixture with its launcher pod only among `count` other pods in one kubectl List (items at
 * column 0, or indented), and its events only among five times as many documents about other VMs.
 */
function buried(count: number, indentSeq: boolean): string {
  const dir = join(tempDir(), caseName);
  cpSync(fixtureDir(mode, caseName), dir, { recursive: true });
  const launcher = parse(readFileSync(join(dir, "pods.yaml"), "utf8")) as LooseObject;
  const events = readFileSync(join(dir, "events.yaml"), "utf8");
  rmSync(join(dir, "pods.yaml"));
  rmSync(join(dir, "events.yaml"));
  const items = Array.from({ length: count }, (_, i) => otherPod(i));
  items.splice(count / 2, 0, launcher);
  const list = { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
  writeFileSync(join(dir, "all-pods.yaml"), stringify(list, { indentSeq }));
  const documents = Array.from({ length: 5 * count }, (_, i) => stringify(otherEvent(i)));
  documents.splice(count, 0, events);
  writeFileSync(join(dir, "all-events.yaml"), documents.join("---\n"));
  return dir;
}

describe("diagnose --from: manifest files many times the limit", () => {
  for (const [layout, indentSeq] of [
    ["items at column 0, as kubectl writes them", false],
    ["items indented", true],
  ] as const) {
    it(`finds the launcher pod in a List and the event among documents (${layout}): the fixture's diagnosis`, async () => {
      const dir = buried(300, indentSeq);
      for (const file of ["all-pods.yaml", "all-events.yaml"]) {
        expect(readFileSync(join(dir, file)).length).toBeGreaterThan(5 * limits.manifestBytes);
      }
      const { snapshot, text } = await diagnose(dir, { limits });
      expect(snapshot.pods.map((p) => p.metadata.name)).toEqual(["virt-launcher-busy-db-4hx7k"]);
      expect(snapshot.events.map((e) => e.reason)).toEqual(["Migrated"]);
      expect(text).toBe(expectedText());
    });
  }

  it("skips one pod over the limit with a note, and reads the rest of the file", async () => {
    const dir = buried(100, false);
    const path = join(dir, "all-pods.yaml");
    const huge = { ...otherPod(1000), data: "x".repeat(100 * KiB) };
    const text = readFileSync(path, "utf8").replace("items:\n", `items:\n${stringify([huge])}`);
    writeFileSync(path, text);
    const { text: diagnosis } = await diagnose(dir, { limits });
    expect(diagnosis).toBe(
      expectedText().replace(
        "\nCould not check:\n",
        "\nCould not check:\n  file all-pods.yaml: the list item at line 3 is 102 KiB, larger than the 64.0 KiB diagnose parses of one object; skipped, and the rest of the file read\n",
      ),
    );
  });

  it("takes the same snapshot of every fixture with the VM named as without (events about others dropped)", async () => {
    let compared = 0;
    for (const rule of readdirSync(diagnoseFixturesDir, { withFileTypes: true })) {
      if (!rule.isDirectory()) continue;
      for (const c of readdirSync(join(diagnoseFixturesDir, rule.name), { withFileTypes: true })) {
        if (!c.isDirectory()) continue;
        const unnamed = await loadSnapshotFromDir(join(diagnoseFixturesDir, rule.name, c.name)).catch(
          (e: unknown) => e,
        );
        if (unnamed instanceof UsageError) continue;
        if (unnamed instanceof Error) throw unnamed;
        const named = await loadSnapshotFromDir(join(diagnoseFixturesDir, rule.name, c.name), {
          vmName: (unnamed as { vmName: string }).vmName,
        });
        expect(named, `${rule.name}/${c.name}`).toEqual(unnamed);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(50);
  });
});

describe("ObjectKeeper: what is dropped as it is read", () => {
  it("says pods and events were saved, though none it kept concerns the VM", async () => {
    const dir = buried(20, false);
    const pods = readFileSync(join(dir, "all-pods.yaml"), "utf8");
    // Without the launcher: only other pods, and only events about other VMs.
    writeFileSync(join(dir, "all-pods.yaml"), stringify({ kind: "List", items: [otherPod(1), otherPod(2)] }));
    writeFileSync(join(dir, "all-events.yaml"), stringify(otherEvent(1)));
    expect(pods).toContain("virt-launcher-busy-db-4hx7k");
    const { snapshot } = await diagnose(dir, { vmName: "busy-db" });
    expect(snapshot.pods).toEqual([]);
    expect(snapshot.events).toEqual([]);
    const missing = snapshot.missing.map((m) => m.what);
    expect(missing).not.toContain("pods");
    expect(missing).not.toContain("events");
    expect(missing).toContain("nodes");
  });

  it("a directory of objects no rule reads is still a directory of objects: the VM is to be named", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "cm.yaml"),
      stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }),
    );
    const error = await loadSnapshotFromDir(dir).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `no VirtualMachine or VirtualMachineInstance in "${dir}"; name the VM to diagnose`,
    );
  });

  it("skips unparsed the pods KubeVirt has no hand in, and the events about other VMs", () => {
    const keeper = new ObjectKeeper("busy-db");
    expect(keeper.skip("Pod", stringify(otherPod(1)))).toBe(true);
    for (const text of [
      "metadata:\n  labels:\n    kubevirt.io: virt-launcher\n",
      "metadata:\n  name: virt-handler-abcde\n",
      "metadata:\n  name: virt-launcher-busy-db-abcde\n",
    ]) {
      expect(keeper.skip("Pod", text), text).toBe(false);
    }
    expect(keeper.otherPods).toBe(1);
    expect(keeper.skip("Event", stringify(otherEvent(1)))).toBe(true);
    for (const about of [
      "VirtualMachineInstance\n  name: busy-db",
      "Pod\n  name: x",
      "VirtualMachineInstanceMigration",
    ]) {
      expect(keeper.skip("Event", `involvedObject:\n  kind: ${about}\n`), about).toBe(false);
    }
    expect(keeper.otherEvents).toBe(1);
    expect(keeper.skip("Deployment", "metadata:\n  name: web\n")).toBe(true);
    expect(keeper.skip("Deployment", "metadata:\n  name: virt-controller\n")).toBe(false);
    expect(keeper.skip("ConfigMap", "")).toBe(true);
    expect(keeper.skip("ConfigMapList", "")).toBe(false);
    expect(keeper.skip("Node", "")).toBe(false);
    // Without the VM's name, every event may be the one.
    expect(new ObjectKeeper(undefined).skip("Event", stringify(otherEvent(1)))).toBe(false);
  });

  it("keeps of a parsed pod KubeVirt has no hand in only what names it", () => {
    const keeper = new ObjectKeeper(undefined);
    const pod = {
      ...otherPod(1),
      metadata: { ...otherPod(1).metadata, creationTimestamp: "2025-01-01T00:00:00Z" },
    };
    expect(keeper.keep(pod)).toEqual({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web-1",
        namespace: "team-1",
        uid: "uid-1",
        creationTimestamp: "2025-01-01T00:00:00Z",
      },
    });
    const launcher = { ...pod, metadata: { ...pod.metadata, labels: { "kubevirt.io": "virt-launcher" } } };
    expect(keeper.keep(launcher)).toBe(launcher);
    const handler = { ...pod, metadata: { ...pod.metadata, name: "virt-handler-abcde", labels: {} } };
    expect(keeper.keep(handler)).toBe(handler);
    const deployment = (name: string) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name } });
    expect(keeper.keep(deployment("web"))).toBeUndefined();
    expect(keeper.keep(deployment("virt-controller"))).toEqual(deployment("virt-controller"));
    expect(keeper.keep({ kind: "ConfigMap", metadata: { name: "c" } })).toBeUndefined();
  });

  it("with the VM named, keeps the events that may be about it", () => {
    const keeper = new ObjectKeeper("busy-db");
    const event = (kind: string, name: string) => ({ ...otherEvent(1), involvedObject: { kind, name } });
    expect(keeper.keep(event("VirtualMachineInstance", "vm-1"))).toBeUndefined();
    expect(keeper.keep(event("Node", "node-1"))).toBeUndefined();
    for (const kept of [
      event("VirtualMachine", "busy-db"),
      event("VirtualMachineInstanceMigration", "kubevirt-migrate-vm-x"),
      event("Pod", "virt-launcher-busy-db-abcde"),
    ]) {
      expect(keeper.keep(kept)).toBe(kept);
    }
    // events.k8s.io calls it `regarding`.
    const newer = { apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name: "e" } };
    expect(
      keeper.keep({ ...newer, regarding: { kind: "VirtualMachineInstance", name: "vm-1" } }),
    ).toBeUndefined();
    expect(keeper.otherEvents).toBe(3);
  });
});
