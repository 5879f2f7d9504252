// Live gathering: against the simulated cluster over HTTPS (what is read, and in how many
// requests), and against a strict fake client for the refusals and absences.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gatherSnapshot, logTailLines, podsToRead } from "../../src/diagnose/gather.js";
import { ApiError, ExitCode, type KvmigError, NotFoundError } from "../../src/errors.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";
import type { Pod, PodPhase, VirtualMachine, VirtualMachineInstance } from "../../src/k8s/types.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simPerTest } from "../helpers/sim.js";

const requests: string[] = [];
const sim = simPerTest(
  {
    scenario: "version-skew",
    log: (line) => {
      if (/^(GET|POST|PUT|PATCH|DELETE) /.test(line)) requests.push(line);
    },
  },
  "file",
);

const clients: KubeClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function client(context: "sim-admin" | "sim-viewer" = "sim-admin"): Promise<KubeClient> {
  const kubeconfig = join(tempDir(), "config");
  writeFileSync(kubeconfig, sim().kubeconfig(), { mode: 0o600 });
  const kube = await connect(
    { kubeconfig, context },
    { env: {}, clock: new FakeClock(), userAgent: "kvmig-test" },
  );
  clients.push(kube);
  return kube;
}

const now = "2030-01-01T00:00:00Z";

describe("gatherSnapshot against the simulated cluster", () => {
  it("reads everything about the VM in at most 15 requests, each once", async () => {
    const kube = await client();
    requests.length = 0;
    const s = await gatherSnapshot(kube, { namespace: "prod", vmName: "orders-db" }, now);
    const paths = requests.map((line) => line.split(" ").slice(0, 2).join(" "));
    expect(paths.length).toBeLessThanOrEqual(15);
    expect(new Set(paths).size).toBe(paths.length);

    expect(s.source).toBe("live");
    expect(s.takenAt).toBe(now);
    expect(s.vm?.metadata.name).toBe("orders-db");
    expect(s.vmi?.status?.migrationState?.failureReason).toMatch(/client socket is closed/);
    expect(s.migrations.map((m) => m.status?.phase)).toEqual(["Failed"]);
    expect(s.pods.map((p) => p.metadata.name)).toEqual([s.vmi?.status?.migrationState?.sourcePod]);
    // The source launcher's compute log, with the failure in it.
    expect(s.logs.map((l) => [l.pod, l.container])).toEqual([
      [s.vmi?.status?.migrationState?.sourcePod, "compute"],
    ]);
    expect(s.logs[0]?.lines.length).toBeLessThanOrEqual(logTailLines);
    expect(s.logs[0]?.lines.some((l) => l.includes("Live migration failed."))).toBe(true);
    // Events of the VM, the VMI, the VMIM and the (deleted) target pod; none of the other VMs.
    const kinds = new Set(s.events.map((e) => e.involvedObject.kind));
    expect(kinds).toContain("VirtualMachineInstanceMigration");
    expect(s.events.some((e) => e.reason === "Migrated" && e.type === "Warning")).toBe(true);
    const names = new Set([
      "orders-db",
      ...s.migrations.map((m) => m.metadata.name),
      s.vmi?.status?.migrationState?.sourcePod,
      s.vmi?.status?.migrationState?.targetPod,
    ]);
    expect(
      s.events.filter((e) => !names.has(e.involvedObject.name)).map((e) => e.involvedObject.name),
    ).toEqual([]);
    expect(s.nodes.map((n) => n.metadata.name)).toEqual(["node-1", "node-2", "node-3"]);
    expect(s.kubevirt?.metadata.namespace).toBe("kubevirt");
    expect(s.currentLauncherImage).toBe("quay.io/kubevirt/virt-launcher:v1.9.0");
    expect(s.canMigrate).toBe(true);
    expect(s.missing).toEqual([]);
  });

  it("as the read-only user: everything is readable, and migrating is not allowed", async () => {
    const kube = await client("sim-viewer");
    const s = await gatherSnapshot(kube, { namespace: "prod", vmName: "web-frontend" }, now);
    expect(s.canMigrate).toBe(false);
    expect(s.migrations).toEqual([]);
    expect(s.missing).toEqual([]);
  });

  it("a VM that does not exist: not found (exit 5) naming the VM and the namespace", async () => {
    const kube = await client();
    const error = await gatherSnapshot(kube, { namespace: "prod", vmName: "nope" }, now).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as KvmigError).exitCode).toBe(ExitCode.notFound);
    expect((error as KvmigError).message).toBe('VirtualMachine "nope" not found in namespace "prod"');
    expect((error as KvmigError).hint).toBe("list the VMs with: kubectl get vm,vmi -n prod");
  });
});

function forbidden(what: string): ApiError {
  return new ApiError(
    `${what} is forbidden: User "viewer" cannot list resource`,
    403,
    "Forbidden",
    ExitCode.unauthorized,
  );
}

function notFound(what: string): ApiError {
  return new ApiError(`${what} not found`, 404, "NotFound", ExitCode.notFound);
}

const vm: VirtualMachine = { metadata: { name: "db-1", namespace: "demo" }, spec: {} };
const vmi: VirtualMachineInstance = {
  metadata: { name: "db-1", namespace: "demo", uid: "uid-1" },
  spec: {},
  status: { phase: "Running", nodeName: "node-1" },
};

describe("gatherSnapshot with refusals", () => {
  it("a 403 on a read is a 'forbidden' note in missing, and the rest is still gathered", async () => {
    const kube = fakeKube({
      get: async (resource: string) => (resource === "vm" ? vm : vmi) as never,
      list: async (resource: string, options?: { labelSelector?: string }) => {
        if (resource === "event") throw forbidden('events "" in namespace demo');
        if (resource === "node") throw forbidden("nodes");
        if (resource === "nad") throw notFound("the server could not find the requested resource");
        if (resource === "pod" && options?.labelSelector === "kubevirt.io=virt-handler") return [] as never;
        if (resource === "pod") {
          expect(options?.labelSelector).toBe("kubevirt.io/created-by=uid-1");
          return [] as never;
        }
        return [] as never;
      },
      findKubeVirt: async () => {
        throw forbidden("kubevirts.kubevirt.io");
      },
      findVirtController: async (namespace: string) => {
        expect(namespace).toBe("kubevirt");
        return undefined;
      },
      canI: async () => ({ allowed: false }),
    });
    const s = await gatherSnapshot(kube, { namespace: "demo", vmName: "db-1" }, now);
    expect(s.vm).toBe(vm);
    expect(s.vmi).toBe(vmi);
    expect(s.canMigrate).toBe(false);
    expect(s.missing).toEqual([
      {
        what: "events in demo",
        why: 'forbidden: events "" in namespace demo is forbidden: User "viewer" cannot list resource',
      },
      {
        what: "KubeVirt resource",
        why: 'forbidden: kubevirts.kubevirt.io is forbidden: User "viewer" cannot list resource',
      },
      { what: "virt-controller Deployment (the current launcher image)", why: "not found" },
      { what: "nodes", why: 'forbidden: nodes is forbidden: User "viewer" cannot list resource' },
      {
        what: "NetworkAttachmentDefinitions in demo",
        why: "not found: the server could not find the requested resource not found",
      },
    ]);
    kube.assertDone();
  });

  it("virt-handler's pods are read from KubeVirt's namespace; refused, they are a note", async () => {
    const handler = {
      metadata: {
        name: "virt-handler-abcde",
        namespace: "kv-system",
        labels: { "kubevirt.io": "virt-handler" },
      },
    };
    const kube = (refuse: boolean) =>
      fakeKube({
        get: async (resource: string) => (resource === "vm" ? vm : vmi) as never,
        list: async (resource: string, options?: { namespace?: string; labelSelector?: string }) => {
          if (resource === "pod" && options?.labelSelector === "kubevirt.io=virt-handler") {
            expect(options.namespace).toBe("kv-system");
            if (refuse) throw forbidden("pods");
            return [handler] as never;
          }
          return [] as never;
        },
        findKubeVirt: async () =>
          ({ metadata: { name: "kubevirt", namespace: "kv-system" }, spec: {} }) as never,
        findVirtController: async () => undefined,
        canI: async () => ({ allowed: true }),
      });
    const read = await gatherSnapshot(kube(false), { namespace: "demo", vmName: "db-1" }, now);
    expect(read.handlerPods?.map((p) => p.metadata.name)).toEqual(["virt-handler-abcde"]);
    expect(read.pods).toEqual([]);
    const refused = await gatherSnapshot(kube(true), { namespace: "demo", vmName: "db-1" }, now);
    expect(refused.handlerPods).toEqual([]);
    expect(refused.missing).toContainEqual({
      what: "virt-handler pods in kv-system",
      why: 'forbidden: pods is forbidden: User "viewer" cannot list resource',
    });
  });

  it("VM and VMI both forbidden: the API error itself (exit 4), not an empty diagnosis", async () => {
    const kube = fakeKube({
      get: async () => {
        throw forbidden("virtualmachines.kubevirt.io db-1");
      },
      list: async () => [] as never,
      findKubeVirt: async () => undefined,
      findVirtController: async () => undefined,
      canI: async () => ({ allowed: false }),
    });
    const error = await gatherSnapshot(kube, { namespace: "demo", vmName: "db-1" }, now).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).exitCode).toBe(ExitCode.unauthorized);
  });

  it("a standalone VMI: no VM is a note; pods by the VMI's uid", async () => {
    const kube = fakeKube({
      get: async (resource: string) => {
        if (resource === "vm") throw notFound("vm");
        return vmi as never;
      },
      list: async () => [] as never,
      findKubeVirt: async () => undefined,
      findVirtController: async () => undefined,
      canI: async () => ({ allowed: true }),
    });
    const s = await gatherSnapshot(kube, { namespace: "demo", vmName: "db-1" }, now);
    expect(s.vm).toBeUndefined();
    expect(s.missing).toEqual([
      { what: "VirtualMachine demo/db-1", why: "none (a standalone VMI)" },
      { what: "KubeVirt resource", why: "none found in any namespace" },
      { what: "virt-controller Deployment (the current launcher image)", why: "not found" },
    ]);
  });

  it("a stopped VM: pods by vm.kubevirt.io/name, and a note that there is no VMI", async () => {
    const kube = fakeKube({
      get: async (resource: string) => {
        if (resource === "vmi") throw notFound("vmi");
        return vm as never;
      },
      list: async (resource: string, options?: { labelSelector?: string }) => {
        if (resource === "pod") expect(options?.labelSelector).toBe("vm.kubevirt.io/name=db-1");
        return [] as never;
      },
      findKubeVirt: async () => undefined,
      findVirtController: async () => undefined,
      canI: async () => ({ allowed: true }),
    });
    const s = await gatherSnapshot(kube, { namespace: "demo", vmName: "db-1" }, now);
    expect(s.missing[0]).toEqual({
      what: "VirtualMachineInstance demo/db-1",
      why: "none (the VM is not running)",
    });
  });
});

function pod(name: string, phase: PodPhase, extra: Partial<Pod> = {}): Pod {
  return {
    metadata: { name, namespace: "demo", ...(extra.metadata ?? {}) },
    spec: { nodeName: extra.spec?.nodeName ?? "node-1" },
    status: { phase, ...(extra.status ?? {}) },
  };
}

describe("podsToRead", () => {
  it("the running pod on the VMI's node, and the newest migration target", () => {
    const source = pod("virt-launcher-db-1-aaaaa", "Running");
    const oldTarget = pod("virt-launcher-db-1-bbbbb", "Failed", {
      metadata: { labels: { "kubevirt.io/migrationJobUID": "m1" } },
      spec: { nodeName: "node-2" },
    });
    const newTarget = pod("virt-launcher-db-1-ccccc", "Pending", {
      metadata: { labels: { "kubevirt.io/migrationJobUID": "m2" } },
      spec: { nodeName: "node-3" },
    });
    expect(podsToRead(vmi, [source, oldTarget, newTarget]).map((p) => p.metadata.name)).toEqual([
      "virt-launcher-db-1-aaaaa",
      "virt-launcher-db-1-ccccc",
    ]);
  });

  it("a target whose compute container never started is not read: a note says why", async () => {
    const target = pod("virt-launcher-db-1-ccccc", "Pending", {
      metadata: { labels: { "kubevirt.io/migrationJobUID": "m2" } },
      status: {
        phase: "Pending",
        containerStatuses: [{ name: "compute", state: { waiting: { reason: "ContainerCreating" } } }],
      },
    });
    const source = pod("virt-launcher-db-1-aaaaa", "Running", {
      status: { phase: "Running", containerStatuses: [{ name: "compute", state: { running: {} } }] },
    });
    const kube = fakeKube({
      get: async (resource: string) => (resource === "vm" ? vm : vmi) as never,
      list: async (resource: string) => (resource === "pod" ? [source, target] : []) as never,
      findKubeVirt: async () => undefined,
      findVirtController: async () => undefined,
      canI: async () => ({ allowed: true }),
      podLogs: async (_namespace: string, name: string) => {
        expect(name).toBe("virt-launcher-db-1-aaaaa");
        return "first\nsecond\n";
      },
    });
    const s = await gatherSnapshot(kube, { namespace: "demo", vmName: "db-1" }, now);
    expect(s.logs).toEqual([
      {
        namespace: "demo",
        pod: "virt-launcher-db-1-aaaaa",
        container: "compute",
        lines: ["first", "second"],
      },
    ]);
    expect(s.missing).toContainEqual({
      what: "log of virt-launcher-db-1-ccccc/compute",
      why: "container not started (ContainerCreating)",
    });
  });
});
