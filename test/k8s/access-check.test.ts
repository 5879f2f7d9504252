// The permission checks kvmig's hints print are commands that really answer: run with the real
// kubectl and a shell against the simulated cluster's RBAC, they say true for a user who may and
// false for one who may not (where `kubectl auth can-i` cannot name KubeVirt's subresources).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessCheckCommand, evacuationAccess } from "../../src/k8s/access-check.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl } from "../helpers/kubectl.js";
import { simRequest } from "../helpers/sim.js";

const kubectl = findKubectl();
let cluster: SimCluster;
let kubeconfig: string;

beforeAll(async () => {
  cluster = await startSimCluster({ seed: 7, controllers: true });
  cluster.addUser("may");
  cluster.addUser("mayNot");
  // "may" gets KubeVirt's own migrate role in demo; "mayNot" only the namespace's edit role.
  for (const [user, role] of [
    ["may", "kubevirt.io:migrate"],
    ["mayNot", "edit"],
  ] as const) {
    const created = await simRequest(
      cluster,
      "POST",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings",
      {
        body: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: `${user}-${role.replace(/[.:]/g, "-")}` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
          subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
        },
      },
    );
    expect(created.status).toBe(201);
  }
  kubeconfig = join(tempDir(), "kubeconfig");
  writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
}, 30_000);

afterAll(async () => {
  await cluster?.close();
});

const run = promisify(execFile);

/** The command's answer; the cluster runs in this process, so the shell must not block it. */
async function answer(command: string): Promise<string> {
  const { stdout } = await run("sh", ["-c", command], {
    env: {
      PATH: `${dirname(kubectl ?? "/usr/bin/kubectl")}:/usr/bin:/bin`,
      KUBECONFIG: kubeconfig,
      HOME: tempDir(),
    },
    encoding: "utf8",
  });
  return stdout.trim();
}

describe.skipIf(!kubectl)("accessCheckCommand, run for real", () => {
  const migrate = {
    verb: "update",
    group: "subresources.kubevirt.io",
    resource: "virtualmachines",
    subresource: "migrate",
    namespace: "demo",
  };

  it("KubeVirt's migrate subresource: true for kubevirt.io:migrate, false for edit (KubeVirt 1.5+)", async () => {
    const command = accessCheckCommand(migrate);
    expect(command).toMatch(
      /^echo '\{.*\}' \| kubectl create --validate=false -f - -o 'jsonpath=\{\.status\.allowed\}'$/,
    );
    expect(await answer(command.replace("kubectl create", "kubectl --context may create"))).toBe("true");
    expect(await answer(command.replace("kubectl create", "kubectl --context mayNot create"))).toBe("false");
  });

  it("an admin checking for someone else adds --as (the simulated cluster does not impersonate, so only the form)", () => {
    expect(accessCheckCommand(migrate, "alice")).toMatch(
      / \| kubectl create --as=alice --validate=false -f - /,
    );
  });

  it("a plain resource uses kubectl auth can-i, cluster-wide with -A", async () => {
    const list = { verb: "list", group: "kubevirt.io", resource: "virtualmachineinstances" };
    expect(accessCheckCommand(list)).toBe("kubectl auth can-i list virtualmachineinstances.kubevirt.io -A");
    expect(accessCheckCommand({ ...list, namespace: "demo" }, "may")).toBe(
      "kubectl auth can-i list virtualmachineinstances.kubevirt.io -n demo --as=may",
    );
    const logs = { verb: "get", group: "", resource: "pods", subresource: "log", namespace: "demo" };
    expect(accessCheckCommand(logs)).toBe("kubectl auth can-i get pods --subresource=log -n demo");
    // And they answer: edit may read pod logs in demo; nobody bound in demo only may list VMIs everywhere.
    const asMayNot = (command: string) =>
      `${command.replace("kubectl auth", "kubectl --context mayNot auth")} || true`;
    expect(await answer(asMayNot(accessCheckCommand(logs)))).toBe("yes");
    expect(await answer(asMayNot(accessCheckCommand(list)))).toBe("no");
    expect(await answer(asMayNot(accessCheckCommand({ ...list, namespace: "demo" })))).toBe("yes");
  });

  it("a node evacuation's writes: patch nodes (cluster-scoped: neither -n nor -A), create pods/eviction, update virtualmachineinstances/evacuate", async () => {
    const cordon = accessCheckCommand(evacuationAccess.cordon("node-1"));
    expect(cordon).toBe("kubectl auth can-i patch nodes");
    const evict = accessCheckCommand(evacuationAccess.evict("demo"));
    expect(evict).toBe("kubectl auth can-i create pods --subresource=eviction -n demo");
    const cancel = accessCheckCommand(evacuationAccess.evacuateCancel("demo", "rhel-db"));
    expect(JSON.parse(/^echo '(.*)' \|/.exec(cancel)?.[1] ?? "{}")).toEqual({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          verb: "update",
          group: "subresources.kubevirt.io",
          resource: "virtualmachineinstances",
          subresource: "evacuate",
          namespace: "demo",
          name: "rhel-db",
        },
      },
    });
    // The admin may do all three; edit in demo may evict there but not cordon a node.
    expect(await answer(cordon)).toBe("yes");
    expect(await answer(evict)).toBe("yes");
    expect(await answer(cancel)).toBe("true");
    const asMayNot = (command: string) =>
      `${command.replace("kubectl auth", "kubectl --context mayNot auth")} || true`;
    expect(await answer(asMayNot(evict))).toBe("yes");
    expect(await answer(asMayNot(cordon))).toBe("no");
  });
});
