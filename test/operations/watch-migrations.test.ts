// Watching every migration in scope (src/operations/watch-migrations.ts) on its own, through the
// strict fake cluster: what the observer is told, --exit-on-done, the timeout, and the state the
// watch ends with.
import { describe, expect, it } from "vitest";
import type { WatchUpdate } from "../../src/k8s/kube-client.js";
import type { VirtualMachineInstance, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { type MigrationRow, watchMigrations } from "../../src/operations/watch-migrations.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";

function migration(name: string, vm: string, phase: string): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name, namespace: "demo", uid: `${name}-uid`, creationTimestamp: "2026-11-25T11:58:00Z" },
    spec: { vmiName: vm },
    status: {
      phase,
      migrationState: { sourceNode: "node-1" },
      phaseTransitionTimestamps: [{ phase, phaseTransitionTimestamp: "2026-11-25T11:58:30Z" }],
    },
  } as VirtualMachineInstanceMigration;
}

const vmi = {
  metadata: { name: "web", namespace: "demo", labels: { "kubevirt.io/migrationTargetNodeName": "node-3" } },
  spec: {},
  status: { nodeName: "node-1" },
} as VirtualMachineInstance;

/** Yields the updates, then waits for the signal. */
function stream<T>(updates: WatchUpdate<T>[], signal: AbortSignal) {
  return (async function* () {
    yield* updates;
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  })();
}

describe("watchMigrations", () => {
  it("tells the list, each change with the row before it, and the VMIs; --exit-on-done ends once nothing is in flight", async () => {
    const kube = fakeKube({
      watch: ((resource: string, options: { signal: AbortSignal; labelSelector?: string }) => {
        if (resource === "vmi") {
          expect(options.labelSelector).toBe("kubevirt.io/migrationTargetNodeName");
          return stream([{ type: "ADDED", object: vmi }], options.signal);
        }
        expect(options.labelSelector).toBe("app=web");
        return stream(
          [
            { type: "ADDED", object: migration("m-1", "web", "Scheduling") },
            { type: "ADDED", object: migration("m-0", "db", "Succeeded") },
            { type: "SYNCED", resourceVersion: "5" },
            { type: "MODIFIED", object: migration("m-1", "web", "Running") },
            { type: "MODIFIED", object: migration("m-1", "web", "Succeeded") },
          ],
          options.signal,
        );
      }) as never,
    });
    const told: string[] = [];
    const result = await watchMigrations(
      kube,
      {
        namespace: "demo",
        selector: "app=web",
        exitOnDone: true,
        clock: new FakeClock(),
        signal: new AbortController().signal,
      },
      {
        onSynced: (state) => told.push(`synced ${state.rows.size} (${state.unfinished()} in flight)`),
        onMigration: (row: MigrationRow, type, before) =>
          told.push(`${type} ${row.migration} ${before?.phase ?? "-"} → ${row.phase}`),
      },
    );
    expect(told).toEqual([
      "ADDED m-1 - → Scheduling",
      "ADDED m-0 - → Succeeded",
      "synced 2 (1 in flight)",
      "MODIFIED m-1 Scheduling → Running",
      "MODIFIED m-1 Running → Succeeded",
    ]);
    expect(result.timedOut).toBe(false);
    expect(result.state.synced).toBe(true);
    expect(result.state.unfinished()).toBe(0);
    expect(result.state.rows.get("demo/m-1")).toMatchObject({
      vm: "web",
      phase: "Succeeded",
      sourceNode: "node-1",
      endedAt: "2026-11-25T11:58:30Z",
      changedAt: "2026-11-25T11:58:30Z",
    });
  });

  it("an unfinished VMIM does not name its source node (issue 21): its VMI's node is read once, before it is told", async () => {
    // While it runs a VMIM's migrationState holds only sourcePod (SetSourcePod); the VMI's record
    // is copied in once it is final.
    const running = (name: string, vm: string, phase: string) =>
      ({
        ...migration(name, vm, phase),
        status: { phase, migrationState: { sourcePod: `virt-launcher-${vm}-abcde` } },
      }) as VirtualMachineInstanceMigration;
    const asked: string[] = [];
    const kube = fakeKube({
      watch: ((resource: string, options: { signal: AbortSignal }) =>
        stream(
          resource === "vmim"
            ? [
                { type: "ADDED", object: running("m-1", "web", "Scheduling") },
                { type: "ADDED", object: migration("m-0", "db", "Succeeded") },
                { type: "SYNCED", resourceVersion: "5" },
                { type: "MODIFIED", object: running("m-1", "web", "Running") },
                { type: "ADDED", object: running("m-2", "api", "Pending") },
                { type: "MODIFIED", object: migration("m-1", "web", "Succeeded") },
                { type: "MODIFIED", object: migration("m-2", "api", "Failed") },
              ]
            : [{ type: "SYNCED", resourceVersion: "5" }],
          options.signal,
        )) as never,
      get: (async (resource: string, name: string, namespace: string) => {
        asked.push(`${resource} ${namespace}/${name}`);
        return {
          ...vmi,
          metadata: { name, namespace },
          status: { nodeName: name === "web" ? "node-1" : "node-2" },
        };
      }) as never,
    });
    const told: string[] = [];
    await watchMigrations(
      kube,
      { exitOnDone: true, clock: new FakeClock(), signal: new AbortController().signal },
      {
        onMigration: (row: MigrationRow, type) =>
          told.push(`${type} ${row.migration} ${row.phase} from ${row.sourceNode}`),
      },
    );
    expect(told).toEqual([
      "ADDED m-1 Scheduling from node-1",
      "ADDED m-0 Succeeded from node-1",
      "MODIFIED m-1 Running from node-1",
      "ADDED m-2 Pending from node-2",
      "MODIFIED m-1 Succeeded from node-1",
      "MODIFIED m-2 Failed from node-1",
    ]);
    // Once per unfinished migration; a final one names its own.
    expect(asked).toEqual(["vmi demo/web", "vmi demo/api"]);
  });

  it("the timeout ends the watch and says what was last seen", async () => {
    const kube = fakeKube({
      watch: ((resource: string, options: { signal: AbortSignal }) =>
        stream(
          resource === "vmim"
            ? [
                { type: "ADDED", object: migration("m-1", "web", "Running") },
                { type: "SYNCED", resourceVersion: "5" },
              ]
            : [{ type: "SYNCED", resourceVersion: "5" }],
          options.signal,
        )) as never,
    });
    const result = await watchMigrations(kube, {
      exitOnDone: false,
      timeoutMs: 60_000,
      clock: new FakeClock(),
      signal: new AbortController().signal,
    });
    expect(result.timedOut).toBe(true);
    expect(result.timeoutMs).toBe(60_000);
    expect(result.state.unfinished()).toBe(1);
  });
});

describe("watchMigrations with a node (watch --node)", () => {
  const node1 = "node-1";
  /** A migration of `vm` with KubeVirt's marks; `nodes`: the source and target a final VMIM carries. */
  const vmim = (
    name: string,
    vm: string,
    phase: string,
    extra: { nodes?: [string, string]; annotations?: Record<string, string> } = {},
  ) =>
    ({
      metadata: {
        name,
        namespace: "demo",
        uid: `${name}-uid`,
        creationTimestamp: "2026-11-25T11:58:00Z",
        annotations: extra.annotations,
      },
      spec: { vmiName: vm },
      status: {
        phase,
        migrationState: extra.nodes
          ? { sourceNode: extra.nodes[0], targetNode: extra.nodes[1] }
          : { sourcePod: `virt-launcher-${vm}-x` },
      },
    }) as VirtualMachineInstanceMigration;
  const vmiNodes: Record<string, string> = { web: "node-1", db: "node-2", api: "node-3" };

  it("tells only the migrations from or to the node: its VMI's node, a final one's nodes, a target pod found later; the others never, nor their end", async () => {
    let podsMayCome: () => void = () => {};
    const synced = new Promise<void>((resolve) => {
      podsMayCome = resolve;
    });
    let podTold: () => void = () => {};
    const afterPod = new Promise<void>((resolve) => {
      podTold = resolve;
    });
    const watched: string[] = [];
    const kube = fakeKube({
      watch: ((
        resource: string,
        options: { signal: AbortSignal; labelSelector?: string; namespace?: string },
      ) => {
        watched.push(`${resource} ${options.labelSelector ?? "-"} ${options.namespace ?? "all"}`);
        if (resource === "vmi") return stream([{ type: "SYNCED", resourceVersion: "1" }], options.signal);
        if (resource === "pod") {
          return (async function* () {
            await synced;
            yield {
              type: "ADDED",
              object: {
                metadata: {
                  name: "virt-launcher-api-t",
                  labels: { "kubevirt.io/migrationJobUID": "m-in-uid" },
                },
                spec: { nodeName: node1 },
              },
            };
            podTold();
            await new Promise((resolve) => options.signal.addEventListener("abort", resolve, { once: true }));
          })();
        }
        return (async function* () {
          yield {
            type: "ADDED",
            object: vmim("m-out", "web", "Running", {
              annotations: { "kubevirt.io/evacuationMigration": node1 },
            }),
          };
          yield { type: "ADDED", object: vmim("m-other", "db", "Running") };
          yield { type: "ADDED", object: vmim("m-in", "api", "Scheduling") };
          yield { type: "ADDED", object: vmim("m-old", "db", "Succeeded", { nodes: ["node-2", node1] }) };
          yield { type: "ADDED", object: vmim("m-far", "db", "Succeeded", { nodes: ["node-2", "node-3"] }) };
          yield { type: "SYNCED", resourceVersion: "5" };
          await afterPod;
          yield {
            type: "MODIFIED",
            object: vmim("m-other", "db", "Succeeded", { nodes: ["node-2", "node-3"] }),
          };
          yield {
            type: "DELETED",
            object: vmim("m-far", "db", "Succeeded", { nodes: ["node-2", "node-3"] }),
          };
          yield {
            type: "MODIFIED",
            object: vmim("m-out", "web", "Succeeded", {
              nodes: [node1, "node-2"],
              annotations: { "kubevirt.io/evacuationMigration": node1 },
            }),
          };
          yield { type: "MODIFIED", object: vmim("m-in", "api", "Succeeded", { nodes: ["node-3", node1] }) };
          await new Promise((resolve) => options.signal.addEventListener("abort", resolve, { once: true }));
        })();
      }) as never,
      get: (async (resource: string, name: string) => {
        expect(resource).toBe("vmi");
        return { metadata: { name, namespace: "demo" }, spec: {}, status: { nodeName: vmiNodes[name] } };
      }) as never,
      followPodLogs: async function* () {} as never,
    });
    const told: string[] = [];
    const result = await watchMigrations(
      kube,
      { node: node1, exitOnDone: true, clock: new FakeClock(), signal: new AbortController().signal },
      {
        onSynced: (state) => {
          told.push(`synced ${state.rows.size} (${state.unfinished()} in flight)`);
          podsMayCome();
        },
        onMigration: (row, type, before) =>
          told.push(
            `${type} ${row.migration} ${before?.phase ?? "-"} → ${row.phase} (${row.trigger}, ${row.sourceNode ?? "?"} → ${row.targetNode ?? "?"})`,
          ),
      },
    );
    expect(watched).toEqual([
      "vmi kubevirt.io/migrationTargetNodeName all",
      "pod kubevirt.io/migrationJobUID all",
      "vmim - all",
    ]);
    expect(told).toEqual([
      "ADDED m-out - → Running (evacuation, node-1 → ?)",
      "ADDED m-old - → Succeeded (user, node-2 → node-1)",
      // m-other (node-2, its target not known) and m-far (node-2 → node-3) are not the node's.
      "synced 2 (1 in flight)",
      // Its target pod is on the node: told once that is known.
      "ADDED m-in - → Scheduling (user, node-3 → node-1)",
      "MODIFIED m-out Running → Succeeded (evacuation, node-1 → node-2)",
      "MODIFIED m-in Scheduling → Succeeded (user, node-3 → node-1)",
    ]);
    // m-other still runs elsewhere: it does not keep --exit-on-done waiting.
    expect([...result.state.rows.keys()].sort()).toEqual(["demo/m-in", "demo/m-old", "demo/m-out"]);
    expect(result.state.unfinished()).toBe(0);
  });

  it("without its VMI, the source is the node of the source pod the VMIM names", async () => {
    const kube = fakeKube({
      watch: ((resource: string, options: { signal: AbortSignal }) =>
        stream(
          resource === "vmim"
            ? [
                { type: "ADDED", object: vmim("m-1", "web", "Pending") },
                { type: "SYNCED", resourceVersion: "5" },
              ]
            : [{ type: "SYNCED", resourceVersion: "5" }],
          options.signal,
        )) as never,
      get: (async (resource: string, name: string) => {
        if (resource === "vmi") throw new Error("forbidden");
        expect(`${resource} ${name}`).toBe("pod virt-launcher-web-x");
        return { metadata: { name }, spec: { nodeName: node1 } };
      }) as never,
    });
    const controller = new AbortController();
    const told: string[] = [];
    await watchMigrations(
      kube,
      { node: node1, exitOnDone: false, clock: new FakeClock(), signal: controller.signal },
      {
        // Once the watch waits for more (an abort before that would not reach the fake stream).
        onSynced: () => setTimeout(() => controller.abort(), 0),
        onMigration: (row, type) => told.push(`${type} ${row.migration} from ${row.sourceNode}`),
      },
    );
    expect(told).toEqual(["ADDED m-1 from node-1"]);
  });
});
