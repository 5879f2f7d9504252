// A VM's addresses on its bridge networks before and after a move, as its guest agent reports them
// in the VMI's status.interfaces (virt-handler copies them from the agent: infoSource names
// guest-agent). Read at the start (the pre-flight's VMI) and after a successful migration, waiting
// up to a minute for the interface to be reported from the new node. A bridge network's addresses
// sit on the physical network, so a move onto a node whose bridge has no uplink cuts them off.

import type { Clock } from "../clock.js";
import type { KubeClient } from "../k8s/kube-client.js";
import type { VirtualMachineInstance } from "../k8s/types.js";
import type { BridgeNetwork } from "../migration/bridges.js";

/** One bridge network's addresses across the move (`-o json`'s networks[]). */
export interface NetworkAddresses {
  /** The network's name in the VM. */
  name: string;
  /** The NetworkAttachmentDefinition, `namespace/name`. */
  nad: string;
  bridge: string;
  ipsBefore: string[];
  /** null: not read (the migration did not succeed) or not reported within the wait. */
  ipsAfter: string[] | null;
  /** Every address before is there after; null when there is nothing to compare. */
  kept: boolean | null;
  /** Why kept is false or null, in words. */
  note?: string | undefined;
}

/** How long the interfaces may take to be reported from the new node. */
const addressWaitMs = 60_000;
const pollMs = 2_000;

function interfaceOf(vmi: VirtualMachineInstance | undefined, network: string) {
  return vmi?.status?.interfaces?.find((i) => i.name === network);
}

function addressesOf(vmi: VirtualMachineInstance | undefined, network: string): string[] {
  const found = interfaceOf(vmi, network);
  if (!found) return [];
  return found.ipAddresses ?? (found.ipAddress ? [found.ipAddress] : []);
}

/** The addresses before the move, from the VMI read at the start. */
export function addressesBefore(
  networks: readonly BridgeNetwork[],
  vmi: VirtualMachineInstance | undefined,
): NetworkAddresses[] {
  return networks.map((n) => ({
    name: n.network,
    nad: n.nad,
    bridge: n.bridge,
    ipsBefore: addressesOf(vmi, n.network),
    ipsAfter: null,
    kept: null,
  }));
}

/** Compares one network's addresses; `after` undefined: not reported within the wait. */
export function compareAddresses(before: NetworkAddresses, after: string[] | undefined): NetworkAddresses {
  if (after === undefined) {
    return {
      ...before,
      ipsAfter: null,
      kept: null,
      note: `the interface on ${before.name} was not reported again within a minute`,
    };
  }
  if (before.ipsBefore.length === 0) {
    return { ...before, ipsAfter: after, kept: null, note: "no address was reported before the move" };
  }
  const gone = before.ipsBefore.filter((ip) => !after.includes(ip));
  if (gone.length === 0) return { ...before, ipsAfter: after, kept: true };
  const note =
    after.length === 0
      ? `${gone.join(", ")} on ${before.name} is gone: the interface has no address on the new node`
      : `${gone.join(", ")} on ${before.name} changed to ${after.join(", ")}`;
  return { ...before, ipsAfter: after, kept: false, note };
}

/**
 * The addresses after a successful move: the VMI read until it runs on `targetNode` and each
 * network with addresses before is reported by the guest agent again (or a minute has passed).
 */
export async function addressesAfter(
  kube: KubeClient,
  input: {
    namespace: string;
    vmiName: string;
    targetNode: string | undefined;
    before: readonly NetworkAddresses[];
    clock: Clock;
    signal: AbortSignal;
    waitMs?: number | undefined;
  },
): Promise<NetworkAddresses[]> {
  if (input.before.length === 0) return [];
  const deadline = input.clock.now() + (input.waitMs ?? addressWaitMs);
  const waited = input.before.filter((n) => n.ipsBefore.length > 0);
  let vmi: VirtualMachineInstance | undefined;
  for (;;) {
    vmi = await kube.get("vmi", input.vmiName, input.namespace).catch(() => undefined);
    const moved = vmi !== undefined && (!input.targetNode || vmi.status?.nodeName === input.targetNode);
    const reported = (n: NetworkAddresses) =>
      /guest-agent/.test(interfaceOf(vmi, n.name)?.infoSource ?? "") || addressesOf(vmi, n.name).length > 0;
    if (moved && waited.every(reported)) break;
    if (input.clock.now() + pollMs > deadline || input.signal.aborted) {
      return input.before.map((n) =>
        compareAddresses(n, moved && reported(n) ? addressesOf(vmi, n.name) : undefined),
      );
    }
    await input.clock.sleep(pollMs, input.signal).catch(() => undefined);
  }
  return input.before.map((n) => compareAddresses(n, addressesOf(vmi, n.name)));
}
