// `kvmig watch --node NODE` on a scripted cluster (a fake client): every namespace unless -n
// names one, only the migrations from or to the node, each told with who created it (TRIGGER,
// `trigger`), and the usage errors of --node beside a VM; a node that does not exist.
import { describe, expect, it } from "vitest";
import { ApiError, ExitCode } from "../../src/errors.js";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { runCli } from "../helpers/test-context.js";

function migration(
  name: string,
  vm: string,
  nodes: [string, string],
  annotations?: Record<string, string>,
): VirtualMachineInstanceMigration {
  return {
    metadata: {
      name,
      namespace: vm === "db" ? "prod" : "demo",
      uid: `${name}-uid`,
      creationTimestamp: "2026-11-25T11:58:00Z",
      annotations,
    },
    spec: { vmiName: vm },
    status: {
      phase: "Succeeded",
      migrationState: { sourceNode: nodes[0], targetNode: nodes[1] },
      phaseTransitionTimestamps: [{ phase: "Succeeded", phaseTransitionTimestamp: "2026-11-25T11:59:00Z" }],
    },
  } as VirtualMachineInstanceMigration;
}

/** Three final migrations: an evacuation off node-1, a workload update onto it, one elsewhere. */
function cluster(asked: string[]) {
  return fakeKube(
    {
      get: (async (resource: string, name: string) => {
        asked.push(`get ${resource} ${name}`);
        return { metadata: { name } };
      }) as never,
      watch: ((
        resource: string,
        options: { signal: AbortSignal; namespace?: string; labelSelector?: string },
      ) => {
        asked.push(`watch ${resource} ${options.namespace ?? "all"}`);
        return (async function* () {
          if (resource === "vmim") {
            yield {
              type: "ADDED",
              object: migration("kubevirt-evacuation-abcde", "db", ["node-1", "node-2"], {
                "kubevirt.io/evacuationMigration": "node-1",
              }),
            };
            yield {
              type: "ADDED",
              object: migration("kubevirt-workload-update-fghij", "web", ["node-3", "node-1"], {
                "kubevirt.io/workloadUpdateMigration": "",
              }),
            };
            yield {
              type: "ADDED",
              object: migration("kubevirt-migrate-vm-klmno", "api", ["node-2", "node-3"]),
            };
            yield { type: "SYNCED", resourceVersion: "1" };
            return;
          }
          yield { type: "SYNCED", resourceVersion: "1" };
          await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
        })();
      }) as never,
    },
    { namespace: "ctx-ns" },
  );
}

describe("kvmig watch --node", () => {
  it("-o json: every namespace, only the node's migrations, each with its trigger", async () => {
    const asked: string[] = [];
    const kube = cluster(asked);
    const { code, stdout, stderr } = await runCli(
      ["watch", "--node", "node-1", "--exit-on-done", "-o", "json"],
      {
        kube,
      },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const records = stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.namespace, r.vm, r.trigger, r.sourceNode, r.targetNode])).toEqual([
      ["prod", "db", "evacuation", "node-1", "node-2"],
      ["demo", "web", "workload-update", "node-3", "node-1"],
    ]);
    expect(asked).toEqual(["get node node-1", "watch vmi all", "watch pod all", "watch vmim all"]);
    kube.assertDone();
  });

  it("-n names the one namespace; in a pipe each line has the TRIGGER column", async () => {
    const asked: string[] = [];
    // The client -n makes: its namespace is demo.
    const kube = fakeKube(
      {
        get: (async (resource: string, name: string) => {
          asked.push(`get ${resource} ${name}`);
          return { metadata: { name } };
        }) as never,
        watch: cluster(asked).watch as never,
      },
      { namespace: "demo" },
    );
    const { code, stdout } = await runCli(["watch", "--node", "node-1", "-n", "demo", "--exit-on-done"], {
      kube,
    });
    expect(code).toBe(0);
    expect(asked).toContain("watch vmim demo");
    expect(asked).toContain("get namespace demo");
    const [header, ...lines] = stdout.trimEnd().split("\n");
    expect(header).toMatch(/^TIME +VM +PHASE +TRIGGER +SOURCE → TARGET +PROGRESS +MIGRATION$/);
    // The scripted cluster ignores the namespace: the filter by node still holds.
    expect(lines.map((l) => l.split(/ {3,}/).slice(1, 5))).toEqual([
      ["web", "Succeeded", "workload-update", "node-3 → node-1"],
      ["db", "Succeeded", "evacuation", "node-1 → node-2"],
    ]);
  });

  it("with a VM name, or --pick: a usage error (exit 2) that says how to follow one VM", async () => {
    const kube = fakeKube({});
    const named = await runCli(["watch", "fedora-web", "--node", "node-1", "-n", "demo"], { kube });
    expect(named.code).toBe(ExitCode.usage);
    expect(named.stderr).toContain("error: --node and a VM name cannot be combined");
    expect(named.stderr).toContain(
      "--node node-1 watches every migration from or to the node; to follow one VM, leave out --node",
    );
    const picked = await runCli(["watch", "--pick", "--node", "node-1"], { kube });
    expect(picked.code).toBe(ExitCode.usage);
    expect(picked.stderr).toContain("error: --node and --pick cannot be combined");
  });

  it("a node that does not exist: exit 5, and how to list the nodes", async () => {
    const kube = fakeKube({
      get: (async () => {
        throw new ApiError('nodes "node-9" not found', 404, "NotFound", ExitCode.notFound);
      }) as never,
    });
    const { code, stdout, stderr } = await runCli(["watch", "--node", "node-9"], { kube });
    expect(code).toBe(ExitCode.notFound);
    expect(stdout).toBe("");
    expect(stderr).toContain('error: there is no node "node-9" in context fake (https://127.0.0.1:6443)');
    expect(stderr).toContain("list the nodes with: kubectl get nodes");
  });
});
