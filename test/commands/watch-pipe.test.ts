// `kvmig watch` without a VM, in a pipe: one line per change, stamped with the change's own time
// (the migration's phase transition, the launcher's progress line), never a line that repeats the
// last one for its migration, with the table's -o wide and --no-headers. A scripted cluster (a
// fake client) sends the changes; the fake clock stands hours after them, so a line stamped with
// the time kvmig saw it would show.
import { describe, expect, it } from "vitest";
import type { WatchUpdate } from "../../src/k8s/kube-client.js";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { runCli } from "../helpers/test-context.js";

const uid = "3f0c6d1e-0000-4000-8000-000000000001";
const created = "2026-11-25T11:58:00Z";

function migration(
  phase: string,
  transitions: [string, string][],
  extra: Partial<VirtualMachineInstanceMigration["status"]> = {},
): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: {
      name: "kubevirt-migrate-vm-abcde",
      namespace: "demo",
      uid,
      creationTimestamp: created,
      labels: { "kubevirt.io/vmi-name": "fedora-web" },
    },
    spec: { vmiName: "fedora-web" },
    status: {
      ...(phase ? { phase } : {}),
      phaseTransitionTimestamps: transitions.map(([p, at]) => ({ phase: p, phaseTransitionTimestamp: at })),
      ...extra,
    },
  } as VirtualMachineInstanceMigration;
}

const state = { sourceNode: "node-1", sourcePod: "virt-launcher-fedora-web-x1y2z", targetNode: "node-3" };
const progressLine = (at: string, remainingMiB: number) =>
  JSON.stringify({
    component: "virt-launcher",
    level: "info",
    timestamp: at,
    msg: `Migration info for ${uid}: TimeElapsed:20000ms DataProcessed:${4096 - remainingMiB}MiB DataRemaining:${remainingMiB}MiB DataTotal:4096MiB MemoryProcessed:${4096 - remainingMiB}MiB MemoryRemaining:${remainingMiB}MiB MemoryTotal:4096MiB MemoryBandwidth:300Mbps DirtyRate:20Mbps Iteration:2 PostcopyRequests:0 ConstantPages:0 NormalPages:0 NormalData:0MiB ExpectedDowntime:300ms DiskMbps:0`,
  });

/**
 * A cluster that sends: a migration with no phase yet, the list's end, then the same migration
 * Pending (shown the same: not news), Scheduling twice (the second only changes a field the line
 * does not show), Running, two progress lines (the second with the same data left), Succeeded.
 */
function scriptedCluster() {
  let logsRead!: () => void;
  const logsDone = new Promise<void>((resolve) => {
    logsRead = resolve;
  });
  const t = (s: string) => `2026-11-25T11:58:${s}Z`;
  const updates: WatchUpdate<VirtualMachineInstanceMigration>[] = [
    { type: "ADDED", object: migration("", []) },
    { type: "SYNCED", resourceVersion: "10" },
    { type: "MODIFIED", object: migration("Pending", [["Pending", t("01")]]) },
    {
      type: "MODIFIED",
      object: migration("Scheduling", [
        ["Pending", t("01")],
        ["Scheduling", t("02")],
      ]),
    },
    {
      type: "MODIFIED",
      object: migration(
        "Scheduling",
        [
          ["Pending", t("01")],
          ["Scheduling", t("02")],
        ],
        { migrationState: { sourceNode: "node-1" } },
      ),
    },
    {
      type: "MODIFIED",
      object: migration(
        "Running",
        [
          ["Pending", t("01")],
          ["Scheduling", t("02")],
          ["Running", t("07")],
        ],
        { migrationState: state },
      ),
    },
  ];
  const final = migration(
    "Succeeded",
    [
      ["Pending", t("01")],
      ["Scheduling", t("02")],
      ["Running", t("07")],
      ["Succeeded", t("31")],
    ],
    { migrationState: { ...state, completed: true } },
  );
  return fakeKube(
    {
      watch: ((resource: string, options: { signal: AbortSignal }) =>
        (async function* () {
          if (resource === "vmim") {
            yield* updates;
            await logsDone;
            yield { type: "MODIFIED", object: final };
            return;
          }
          // No VMI with a target label: the route comes from the migration.
          yield { type: "SYNCED", resourceVersion: "1" };
          await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
        })()) as never,
      followPodLogs: async function* () {
        yield progressLine("2026-11-25T11:58:12Z", 2048);
        yield progressLine("2026-11-25T11:58:16Z", 2048);
        yield progressLine("2026-11-25T11:58:20Z", 512);
        logsRead();
      } as never,
    },
    { namespace: "demo" },
  );
}

async function watchInPipe(args: string[]) {
  const kube = scriptedCluster();
  const result = await runCli(["watch", "--exit-on-done", ...args], { kube });
  kube.assertDone();
  return result;
}

describe("kvmig watch in a pipe", () => {
  it("a line per change, stamped with the change's own time; nothing repeated", async () => {
    // The clock stands 2 minutes after the migration ended: "now" would be 12:00:00.
    expect(new FakeClock().now()).toBe(Date.parse("2026-11-25T12:00:00Z"));
    const { code, stdout, stderr } = await watchInPipe([]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.split("\n")).toEqual([
      "TIME                   VM           PHASE             TRIGGER           SOURCE → TARGET   PROGRESS        MIGRATION",
      "2026-11-25T11:58:00Z   fedora-web   Pending           user              ?                 -               kubevirt-migrate-vm-abcde",
      "2026-11-25T11:58:02Z   fedora-web   Scheduling        user              ?                 -               kubevirt-migrate-vm-abcde",
      "2026-11-25T11:58:07Z   fedora-web   Running           user              node-1 → node-3   -               kubevirt-migrate-vm-abcde",
      "2026-11-25T11:58:12Z   fedora-web   Running           user              node-1 → node-3   2.0 GiB left    kubevirt-migrate-vm-abcde",
      "2026-11-25T11:58:20Z   fedora-web   Running           user              node-1 → node-3   512 MiB left    kubevirt-migrate-vm-abcde",
      "2026-11-25T11:58:31Z   fedora-web   Succeeded         user              node-1 → node-3   -               kubevirt-migrate-vm-abcde",
      "",
    ]);
  });

  it("-o wide adds the elapsed time at each change and the start; --no-headers leaves out the column names", async () => {
    const { code, stdout } = await watchInPipe(["-o", "wide", "--no-headers"]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[0]?.split(/ {3,}/)).toEqual([
      "2026-11-25T11:58:00Z",
      "fedora-web",
      "Pending",
      "user",
      "?",
      "-",
      "kubevirt-migrate-vm-abcde",
      "0ms",
      "2026-11-25T11:58:00Z",
    ]);
    expect(lines.at(-1)?.split(/ {3,}/)).toEqual([
      "2026-11-25T11:58:31Z",
      "fedora-web",
      "Succeeded",
      "user",
      "node-1 → node-3",
      "-",
      "kubevirt-migrate-vm-abcde",
      "31s",
      "2026-11-25T11:58:00Z",
    ]);
  });

  it("-A names the namespace of each migration", async () => {
    const kube = scriptedCluster();
    const { code, stdout } = await runCli(["watch", "-A", "--exit-on-done"], { kube });
    expect(code).toBe(0);
    const [header, first] = stdout.split("\n");
    expect(header).toMatch(/^TIME +VM +NAMESPACE +PHASE +TRIGGER +SOURCE → TARGET +PROGRESS +MIGRATION$/);
    expect(first).toMatch(/^2026-11-25T11:58:00Z +fedora-web +demo +Pending +user +/);
  });
});
