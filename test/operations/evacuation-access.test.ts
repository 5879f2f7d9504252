// Before a node evacuation changes anything, the API server is asked whether the user may do it
// (operations/evacuation-access.ts): a missing cordon, eviction or restart permission stops with
// exit 4 and nothing changed; what only stopping a failing VM's retries needs is a warning.
import { describe, expect, it } from "vitest";
import { ExitCode, type KvmigError, UnauthorizedError } from "../../src/errors.js";
import type { AccessCheck } from "../../src/k8s/kube-client.js";
import type { EvacuationPlan, PlannedVm } from "../../src/migration/evacuation-plan.js";
import { checkEvacuationAccess } from "../../src/operations/evacuation-access.js";
import { fakeKube } from "../helpers/fake-kube.js";

const vm = (namespace: string, name: string, action: PlannedVm["action"]) =>
  ({ namespace, vm: name, vmi: name, action }) as PlannedVm;

const plan = (vms: PlannedVm[], cordoned = false) =>
  ({ node: "node-1", cordoned, vms }) as unknown as EvacuationPlan;

const key = (c: AccessCheck) =>
  `${c.verb} ${c.group}/${c.resource}${c.subresource ? `/${c.subresource}` : ""}${c.namespace ? ` in ${c.namespace}` : ""}${c.name ? ` ${c.name}` : ""}`;

function kubeDenying(denied: readonly string[], asked: string[]) {
  return fakeKube({
    canI: async (check) => {
      asked.push(key(check));
      return { allowed: !denied.includes(key(check)) } as never;
    },
  });
}

describe("checkEvacuationAccess", () => {
  const vms = [
    vm("prod", "web", "migrate"),
    vm("prod", "db", "migrate"),
    vm("dev", "ci", "migrate"),
    vm("prod", "old", "restart"),
    vm("prod", "rwo", "blocked"),
  ];

  it("asks once per permission and namespace: the cordon, evictions, cancel, delete, restarts", async () => {
    const asked: string[] = [];
    expect(await checkEvacuationAccess(kubeDenying([], asked), plan(vms))).toEqual([]);
    expect(asked).toEqual([
      "patch /nodes node-1",
      "create /pods/eviction in dev",
      "update subresources.kubevirt.io/virtualmachineinstances/evacuate in dev",
      "update subresources.kubevirt.io/virtualmachineinstances/evacuate/cancel in dev",
      "delete kubevirt.io/virtualmachineinstancemigrations in dev",
      "create /pods/eviction in prod",
      "update subresources.kubevirt.io/virtualmachineinstances/evacuate in prod",
      "update subresources.kubevirt.io/virtualmachineinstances/evacuate/cancel in prod",
      "delete kubevirt.io/virtualmachineinstancemigrations in prod",
      "update subresources.kubevirt.io/virtualmachines/restart in prod",
    ]);
  });

  it("does not ask for the cordon of a node cordoned already", async () => {
    const asked: string[] = [];
    await checkEvacuationAccess(kubeDenying([], asked), plan([vm("prod", "web", "migrate")], true));
    expect(asked.some((a) => a.startsWith("patch /nodes"))).toBe(false);
  });

  it("refuses, exit 4, naming every missing permission the evacuation needs to start", async () => {
    const asked: string[] = [];
    const error = (await checkEvacuationAccess(
      kubeDenying(
        [
          "create /pods/eviction in prod",
          "patch /nodes node-1",
          "update subresources.kubevirt.io/virtualmachines/restart in prod",
        ],
        asked,
      ),
      plan(vms),
    ).catch((e: unknown) => e)) as KvmigError;
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error.exitCode).toBe(ExitCode.unauthorized);
    expect(error.message).toBe(
      "not allowed to patch node node-1 (cordon); create pods/eviction in prod; update virtualmachines/restart in prod; nothing was changed",
    );
    expect(error.hint).toBe(
      "evacuating a node needs deploy/rbac.yaml's kvmig-node-maintainer bound with a ClusterRoleBinding; check with: kubectl auth can-i patch nodes",
    );
  });

  it("only warns when what stopping a failing VM needs is missing", async () => {
    const asked: string[] = [];
    const warnings = await checkEvacuationAccess(
      kubeDenying(
        [
          "update subresources.kubevirt.io/virtualmachineinstances/evacuate/cancel in dev",
          "delete kubevirt.io/virtualmachineinstancemigrations in dev",
        ],
        asked,
      ),
      plan(vms),
    );
    expect(warnings).toEqual([
      "not allowed to update virtualmachineinstances/evacuate/cancel in dev; delete virtualmachineinstancemigrations in dev: a VM whose migration fails twice cannot be stopped from retrying (KubeVirt's backoff goes on); kvmig-node-maintainer grants these",
    ]);
  });

  it("takes a review that cannot be made as no answer (the run finds out for itself)", async () => {
    const kube = fakeKube({
      canI: async () => {
        throw new Error("selfsubjectaccessreviews is forbidden");
      },
    });
    expect(await checkEvacuationAccess(kube, plan(vms))).toEqual([]);
  });
});
