// kubernetes-nmstate in the simulated cluster (issue 23): the `bridges` scenario serves
// NodeNetworkStates, NodeNetworkConfigurationPolicies and their enactments as kubernetes-nmstate
// writes them (each validated against its CRD's schema, test/helpers/nmstate-schema.ts), real kubectl
// lists them with the CRDs' printer columns, and a cluster without nmstate has no nmstate.io API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findKubectl, Kubectl, parseTable } from "../helpers/kubectl.js";
import { validateNmstateObject } from "../helpers/nmstate-schema.js";
import { simPerTest, simRequest } from "../helpers/sim.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary object fields.
type Any = any;

const kubectlBinary = findKubectl();

function bridge(state: Any, name: string): Any {
  return state.status.currentState.interfaces.find((i: Any) => i.name === name);
}

describe("the bridges scenario's nmstate.io objects", () => {
  const sim = simPerTest({ scenario: "bridges", controllers: false }, "file");

  it("every NodeNetworkState, policy and enactment validates against kubernetes-nmstate's CRDs", async () => {
    const counts: Record<string, number> = {};
    for (const path of [
      "/apis/nmstate.io/v1beta1/nodenetworkstates",
      "/apis/nmstate.io/v1/nodenetworkconfigurationpolicies",
      "/apis/nmstate.io/v1beta1/nodenetworkconfigurationpolicies",
      "/apis/nmstate.io/v1beta1/nodenetworkconfigurationenactments",
    ]) {
      const list = await simRequest(sim(), "GET", path);
      expect(list.status, list.text).toBe(200);
      for (const item of list.json.items as Any[]) {
        expect(validateNmstateObject(item), `${path} ${item.metadata.name}`).toEqual([]);
        const one = await simRequest(sim(), "GET", `${path}/${item.metadata.name}`);
        expect(validateNmstateObject(one.json as Any)).toEqual([]);
        const key = `${item.apiVersion} ${item.kind}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }
    expect(counts).toEqual({
      "nmstate.io/v1beta1 NodeNetworkState": 3,
      "nmstate.io/v1 NodeNetworkConfigurationPolicy": 2,
      "nmstate.io/v1beta1 NodeNetworkConfigurationPolicy": 2,
      // vlan-12 on three nodes, vlan-13 on node-1 and node-2.
      "nmstate.io/v1beta1 NodeNetworkConfigurationEnactment": 5,
    });
  });

  it("a schema error is caught: an unknown status field, a condition without a status", () => {
    expect(
      validateNmstateObject({
        apiVersion: "nmstate.io/v1beta1",
        kind: "NodeNetworkState",
        metadata: { name: "node-1" },
        status: {
          currentState: {},
          lastSuccesfulUpdateTime: "2026-01-01T00:00:00Z",
          conditions: [{ type: "x" }],
        },
      }),
    ).toEqual([
      '/status: unknown field "lastSuccesfulUpdateTime"',
      "/status/conditions/0: must have required property 'status'",
    ]);
  });

  it("node-1 and node-2 have the bridges vlan-12 and vlan-13 up on their VLAN uplinks; node-3 only vlan-12", async () => {
    const states = (await simRequest(sim(), "GET", "/apis/nmstate.io/v1beta1/nodenetworkstates")).json
      .items as Any[];
    const byNode = Object.fromEntries(states.map((s) => [s.metadata.name, s]));
    for (const node of ["node-1", "node-2"]) {
      for (const [name, port] of [
        ["vlan-12", "eth1.12"],
        ["vlan-13", "eth1.13"],
      ] as const) {
        const found = bridge(byNode[node], name);
        expect(found, `${node} ${name}`).toMatchObject({ type: "linux-bridge", state: "up" });
        expect(found.bridge.port.map((p: Any) => p.name)).toEqual([port]);
        expect(bridge(byNode[node], port)).toMatchObject({
          type: "vlan",
          vlan: { "base-iface": "eth1", id: Number(port.slice(5)) },
        });
      }
    }
    expect(bridge(byNode["node-3"], "vlan-12")).toMatchObject({ type: "linux-bridge", state: "up" });
    expect(bridge(byNode["node-3"], "vlan-13")).toBeUndefined();
    // Owned by their Node, as the handler creates them.
    expect(byNode["node-3"].metadata.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: "v1", kind: "Node", name: "node-3" }),
    ]);
    const policy = (
      await simRequest(sim(), "GET", "/apis/nmstate.io/v1/nodenetworkconfigurationpolicies/vlan-13")
    ).json as Any;
    expect(policy.spec.nodeSelector).toEqual({ "network.kvmig.io/vlan-13": "true" });
    expect(policy.status.conditions[0]).toMatchObject({
      type: "Available",
      status: "True",
      message: "2/2 nodes successfully configured",
    });
  });

  it("discovery lists nmstate.io with v1 preferred, and its short names", async () => {
    const group = await simRequest(sim(), "GET", "/apis/nmstate.io");
    expect(group.json.preferredVersion).toEqual({ groupVersion: "nmstate.io/v1", version: "v1" });
    const resources = (await simRequest(sim(), "GET", "/apis/nmstate.io/v1beta1")).json.resources as Any[];
    expect(
      resources.filter((r) => !r.name.includes("/")).map((r) => [r.name, r.shortNames, r.namespaced]),
    ).toEqual([
      ["nodenetworkconfigurationpolicies", ["nncp"], false],
      ["nodenetworkconfigurationenactments", ["nnce"], false],
      ["nodenetworkstates", ["nns"], false],
    ]);
  });
});

describe.skipIf(!kubectlBinary)("kubectl get nns, nncp, nnce on the bridges scenario", () => {
  const sim = simPerTest({ scenario: "bridges", controllers: false }, "file");
  let kubectl: Kubectl;
  beforeAll(() => {
    kubectl = new Kubectl(kubectlBinary as string, sim());
  });
  afterAll(() => kubectl.close());

  it("lists the states by node, the policies with their status and reason, the enactments", async () => {
    const nns = parseTable(await kubectl.ok(["get", "nns"]));
    expect(nns.header).toEqual(["NAME", "AGE"]);
    expect(nns.rows.map((r) => r[0])).toEqual(["node-1", "node-2", "node-3"]);
    const nncp = parseTable(await kubectl.ok(["get", "nncp"]));
    expect(nncp.header).toEqual(["NAME", "STATUS", "REASON"]);
    expect(nncp.rows).toEqual([
      ["vlan-12", "Available", "SuccessfullyConfigured"],
      ["vlan-13", "Available", "SuccessfullyConfigured"],
    ]);
    const nnce = parseTable(await kubectl.ok(["get", "nnce", "-l", "nmstate.io/node=node-3"]));
    expect(nnce.rows.map((r) => [r[0], r[1]])).toEqual([["node-3.vlan-12", "Available"]]);
    const yaml = await kubectl.ok([
      "get",
      "nns",
      "node-3",
      "-o",
      "jsonpath={.status.currentState.interfaces[*].name}",
    ]);
    expect(yaml.split(" ")).toEqual(["eth0", "eth1", "eth1.12", "vlan-12"]);
  });
});

describe("a cluster without kubernetes-nmstate (default)", () => {
  const sim = simPerTest({ controllers: false }, "file");

  it("answers 404 under nmstate.io and leaves it out of discovery and OpenAPI", async () => {
    for (const path of [
      "/apis/nmstate.io",
      "/apis/nmstate.io/v1beta1",
      "/apis/nmstate.io/v1beta1/nodenetworkstates",
      "/apis/nmstate.io/v1/nodenetworkconfigurationpolicies/vlan-13",
      "/openapi/v3/apis/nmstate.io/v1beta1",
    ]) {
      expect((await simRequest(sim(), "GET", path)).status, path).toBe(404);
    }
    const groups = (await simRequest(sim(), "GET", "/apis")).json.groups as Any[];
    expect(groups.map((g) => g.name)).not.toContain("nmstate.io");
    expect(groups.map((g) => g.name)).toContain("kubevirt.io");
    const openapi = Object.keys((await simRequest(sim(), "GET", "/openapi/v3")).json.paths as Any);
    expect(openapi.filter((p) => p.includes("nmstate"))).toEqual([]);
    expect(openapi).toContain("apis/kubevirt.io/v1");
  });
});
