// --dump: the snapshot in the layout --from reads, without anything secret; and a dump read
// back gives the same snapshot and the same findings as the live one.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkDumpDir, dumpSnapshot, redacted, scrubObject, scrubText } from "../../src/diagnose/dump.js";
import { runRules } from "../../src/diagnose/engine.js";
import { gatherSnapshot } from "../../src/diagnose/gather.js";
import { allRules } from "../../src/diagnose/modes/index.js";
import { loadSnapshotFromDir } from "../../src/diagnose/offline.js";
import type { Snapshot } from "../../src/diagnose/types.js";
import { ExitCode, KvmigError } from "../../src/errors.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import { emptySnapshot } from "../helpers/diagnose.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simPerTest } from "../helpers/sim.js";

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

describe("scrubbing", () => {
  it("replaces secret-looking fields, env values, user data and annotations; keeps the rest", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const object = {
      metadata: {
        name: "db-1",
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": '{"secret":"x"}',
          "example.com/api-token": "abc123",
          "kubevirt.io/latest-observed-api-version": "v1",
        },
        managedFields: [{ manager: "kubectl" }],
      },
      spec: {
        taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }],
        containers: [
          {
            name: "compute",
            env: [
              { name: "DB_PASSWORD", value: "hunter2" },
              { name: "LOG_LEVEL", value: "info" },
            ],
          },
        ],
        volumes: [{ name: "cloudinit", cloudInitNoCloud: { userData: "#cloud-config\npassword: fedora" } }],
        caBundle: pem,
        note: `ca is ${pem}`,
      },
    };
    const clean = scrubObject(object);
    expect(clean).toEqual({
      metadata: {
        name: "db-1",
        annotations: { "example.com/api-token": redacted, "kubevirt.io/latest-observed-api-version": "v1" },
      },
      spec: {
        taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }],
        containers: [
          {
            name: "compute",
            env: [
              { name: "DB_PASSWORD", value: redacted },
              { name: "LOG_LEVEL", value: "info" },
            ],
          },
        ],
        volumes: [{ name: "cloudinit", cloudInitNoCloud: { userData: redacted } }],
        caBundle: redacted,
        note: `ca is ${redacted}`,
      },
    });
  });

  it("replaces tokens in text: bearer headers, JWTs, token=... assignments", () => {
    expect(scrubText("Authorization: Bearer abcdefghijklmnop")).toBe(`Authorization: ${redacted}`);
    expect(scrubText("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl end")).toBe(
      `jwt ${redacted} end`,
    );
    expect(scrubText('{"token":"s3cr3t","msg":"ok"}')).toBe(`{"token":"${redacted}","msg":"ok"}`);
    expect(scrubText("password=hunter2 and more")).toBe(`password=${redacted} and more`);
    expect(scrubText("Live migration failed: client socket is closed")).toBe(
      "Live migration failed: client socket is closed",
    );
  });
});

describe("dumpSnapshot", () => {
  it("writes one List per kind, the logs as <pod>/<container>.log, and the snapshot's own record", async () => {
    const dir = join(tempDir(), "evidence");
    const snapshot = emptySnapshot({
      source: "live",
      vm: { metadata: { name: "db-1", namespace: "demo" }, spec: {} },
      logs: [{ namespace: "demo", pod: "virt-launcher-db-1-abcde", container: "compute", lines: ["a", "b"] }],
      canMigrate: false,
      missing: [{ what: "nodes", why: "forbidden: nodes is forbidden" }],
    });
    const files = await dumpSnapshot(dir, snapshot);
    expect(files).toEqual([
      "logs/virt-launcher-db-1-abcde/compute.log",
      "snapshot.yaml",
      "virtualmachines.yaml",
    ]);
    expect(readFileSync(join(dir, "logs/virt-launcher-db-1-abcde/compute.log"), "utf8")).toBe("a\nb\n");
    expect(readFileSync(join(dir, "virtualmachines.yaml"), "utf8")).toMatch(
      /^apiVersion: v1\nkind: List\nitems:\n/,
    );
    const back = await loadSnapshotFromDir(dir);
    expect(back).toMatchObject({
      vmName: "db-1",
      namespace: "demo",
      takenAt: snapshot.takenAt,
      canMigrate: false,
      missing: snapshot.missing,
      logs: snapshot.logs,
    });
  });

  it("refuses a directory holding another VM's dump, or an earlier one of this VM: the two would mix (exit 2)", async () => {
    const dir = join(tempDir(), "evidence");
    const db = emptySnapshot({ vm: { metadata: { name: "db-1", namespace: "demo" }, spec: {} } });
    await dumpSnapshot(dir, db);
    const before = allFiles(dir).map((f) => [f, readFileSync(f, "utf8")]);
    const fresh = join(dirname(dir), "demo-web-1-evidence");

    const other = emptySnapshot({
      vmName: "web-1",
      vm: { metadata: { name: "web-1", namespace: "demo" }, spec: {} },
    });
    const mixed = await dumpSnapshot(dir, other).catch((e: unknown) => e);
    expect(mixed).toBeInstanceOf(KvmigError);
    expect(mixed).toMatchObject({
      exitCode: ExitCode.usage,
      message: `--dump directory "${dir}" already holds the dump of demo/db-1`,
      hint: `name a new or empty directory (such as ${fresh}): diagnose --from reads every file under it, so two VMs' dumps would mix`,
    });

    const again = await checkDumpDir(dir, "demo", "db-1").catch((e: unknown) => e);
    expect(again).toMatchObject({
      exitCode: ExitCode.usage,
      message: `--dump directory "${dir}" already holds an earlier dump of demo/db-1`,
    });
    // Nothing was written or replaced.
    expect(allFiles(dir).map((f) => [f, readFileSync(f, "utf8")])).toEqual(before);
  });

  it("refuses a directory with other files; takes a new or an empty one", async () => {
    const busy = tempDir();
    writeFileSync(join(busy, "notes.yaml"), "kind: Notes\n");
    await expect(checkDumpDir(busy, "demo", "db-1")).rejects.toMatchObject({
      exitCode: ExitCode.usage,
      message: `--dump directory "${busy}" is not empty`,
    });
    await expect(checkDumpDir(tempDir(), "demo", "db-1")).resolves.toBeUndefined();
    await expect(checkDumpDir(join(tempDir(), "new"), "demo", "db-1")).resolves.toBeUndefined();
  });

  it("refuses a file as the directory (usage error, exit 2)", async () => {
    const file = join(tempDir(), "file");
    writeFileSync(file, "x");
    const error = await dumpSnapshot(file, emptySnapshot()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KvmigError);
    expect((error as KvmigError).exitCode).toBe(ExitCode.usage);
    expect((error as KvmigError).message).toBe(`--dump needs a directory, and "${file}" is a file`);
  });
});

describe("a live snapshot, dumped and read back", () => {
  const sim = simPerTest({ scenario: "version-skew" }, "file");
  const clients: KubeClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  async function live(): Promise<Snapshot> {
    const kubeconfig = join(tempDir(), "config");
    writeFileSync(kubeconfig, sim().kubeconfig(), { mode: 0o600 });
    const kube = await connect({ kubeconfig }, { env: {}, clock: new FakeClock(), userAgent: "kvmig-test" });
    clients.push(kube);
    return gatherSnapshot(kube, { namespace: "prod", vmName: "orders-db" }, "2030-01-01T00:00:00Z");
  }

  it("holds no token of the cluster, even where one was planted", async () => {
    const s = await live();
    const admin = sim().token("sim-admin");
    const viewer = sim().token("sim-viewer");
    const planted: Snapshot = {
      ...s,
      vm: s.vm && {
        ...s.vm,
        metadata: { ...s.vm.metadata, annotations: { "example.com/deploy-token": admin } },
      },
      logs: [
        ...s.logs,
        {
          namespace: "prod",
          pod: "virt-launcher-x",
          container: "compute",
          lines: [`curl -H "Authorization: Bearer ${viewer}"`],
        },
      ],
    };
    const dir = tempDir();
    await dumpSnapshot(dir, planted);
    const text = allFiles(dir)
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    expect(text).toContain("orders-db");
    expect(text).not.toContain(admin);
    expect(text).not.toContain(viewer);
  });

  it("gives the same snapshot and the same findings", async () => {
    const s = await live();
    const dir = tempDir();
    await dumpSnapshot(dir, s);
    const back = await loadSnapshotFromDir(dir);
    const strip = (x: Snapshot) => JSON.parse(JSON.stringify({ ...x, source: undefined }));
    expect(strip(back)).toEqual(strip(s));
    expect(runRules(back, allRules)).toEqual(runRules(s, allRules));
  });
});
