// The bridge networks' addresses across a move (issue 23 item 2): read before, compared after,
// waited for up to a minute while the interface is not reported from the new node.
import { describe, expect, it } from "vitest";
import type { VirtualMachineInstance } from "../../src/k8s/types.js";
import {
  addressesAfter,
  addressesBefore,
  compareAddresses,
  type NetworkAddresses,
} from "../../src/operations/bridge-addresses.js";
import { networkLines } from "../../src/render/bridge-networks.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";

const networks = [{ network: "vlan-13", nad: "vlan/vlan-13", bridge: "vlan-13" }];

function vmi(node: string, iface?: { ipAddresses?: string[]; infoSource?: string }): VirtualMachineInstance {
  return {
    metadata: { name: "web-13", namespace: "vlan" },
    spec: {},
    status: {
      nodeName: node,
      interfaces: [
        { name: "default", ipAddress: "10.244.1.5", infoSource: "domain, guest-agent" },
        ...(iface ? [{ name: "vlan-13", ...iface }] : []),
      ],
    },
  };
}

const before: NetworkAddresses = {
  name: "vlan-13",
  nad: "vlan/vlan-13",
  bridge: "vlan-13",
  ipsBefore: ["10.13.0.37"],
  ipsAfter: null,
  kept: null,
};

describe("addressesBefore and compareAddresses", () => {
  it("reads each bridge network's addresses from the VMI's interfaces", () => {
    expect(addressesBefore(networks, vmi("node-1", { ipAddresses: ["10.13.0.37"] }))).toEqual([before]);
    expect(addressesBefore(networks, vmi("node-1"))[0]?.ipsBefore).toEqual([]);
  });

  it("kept, gone, changed, not reported, nothing before", () => {
    expect(compareAddresses(before, ["10.13.0.37", "fe80::1"])).toMatchObject({ kept: true });
    expect(compareAddresses(before, [])).toMatchObject({
      ipsAfter: [],
      kept: false,
      note: "10.13.0.37 on vlan-13 is gone: the interface has no address on the new node",
    });
    expect(compareAddresses(before, ["10.13.0.99"]).note).toBe("10.13.0.37 on vlan-13 changed to 10.13.0.99");
    expect(compareAddresses(before, undefined)).toMatchObject({
      ipsAfter: null,
      kept: null,
      note: "the interface on vlan-13 was not reported again within a minute",
    });
    expect(compareAddresses({ ...before, ipsBefore: [] }, [])).toMatchObject({
      kept: null,
      note: "no address was reported before the move",
    });
  });

  it("the summary rows: kept, and a warning for an address gone", () => {
    const plain = { ok: (t: string) => t, warn: (t: string) => t } as never;
    expect(networkLines([compareAddresses(before, ["10.13.0.37"])], plain)).toEqual([
      "  network    vlan-13 (bridge vlan-13): 10.13.0.37 → 10.13.0.37  kept",
    ]);
    expect(networkLines([compareAddresses(before, [])], plain)).toEqual([
      "  network    vlan-13 (bridge vlan-13): 10.13.0.37 → none",
      "  warning    10.13.0.37 on vlan-13 is gone: the interface has no address on the new node",
    ]);
    expect(networkLines([compareAddresses(before, undefined)], plain)[0]).toBe(
      "  network    vlan-13 (bridge vlan-13): 10.13.0.37 → not reported",
    );
    // A migration that did not succeed: the addresses were not read again.
    expect(networkLines([before], plain)).toEqual([]);
  });
});

describe("addressesAfter", () => {
  it("reads the VMI until it runs on the target and the guest agent reports the interface", async () => {
    const reads = [
      vmi("node-1", { ipAddresses: ["10.13.0.37"], infoSource: "domain, guest-agent" }),
      vmi("node-2", { infoSource: "domain" }),
      vmi("node-2", { ipAddresses: ["10.13.0.37"], infoSource: "domain, guest-agent, multus-status" }),
    ];
    const kube = fakeKube({ get: async () => reads.shift() as never });
    const clock = new FakeClock();
    const after = await addressesAfter(kube, {
      namespace: "vlan",
      vmiName: "web-13",
      targetNode: "node-2",
      before: [before],
      clock,
      signal: new AbortController().signal,
    });
    expect(after).toEqual([{ ...before, ipsAfter: ["10.13.0.37"], kept: true }]);
    expect(kube.calls).toEqual(["get", "get", "get"]);
    kube.assertDone();
  });

  it("gives up after a minute: not reported", async () => {
    const kube = fakeKube({ get: async () => vmi("node-2", { infoSource: "domain" }) as never });
    const after = await addressesAfter(kube, {
      namespace: "vlan",
      vmiName: "web-13",
      targetNode: "node-2",
      before: [before],
      clock: new FakeClock(),
      signal: new AbortController().signal,
    });
    expect(after[0]).toMatchObject({ ipsAfter: null, kept: null });
    // At 0, 2, ..., 60 s.
    expect(kube.calls.length).toBe(31);
  });

  it("reads nothing for a VM without bridge networks", async () => {
    const kube = fakeKube({});
    expect(
      await addressesAfter(kube, {
        namespace: "vlan",
        vmiName: "web-13",
        targetNode: "node-2",
        before: [],
        clock: new FakeClock(),
        signal: new AbortController().signal,
      }),
    ).toEqual([]);
  });
});
