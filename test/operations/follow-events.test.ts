// `watch VM` of a migration that has finished: its events all come in the first list, which the
// API server orders by object (VMI events, then the VMIM's, then the pods'); they are told in
// the order they happened. Through the strict fake cluster.
import { describe, expect, it } from "vitest";
import type { Event, VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import { type FollowChange, followMigration } from "../../src/operations/follow-migration.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeKube } from "../helpers/fake-kube.js";

const uid = "5b7c9d1e-2f3a-4b5c-8d6e-7f8091a2b3c4";
const name = "kubevirt-migrate-vm-fghij";

const finished: VirtualMachineInstanceMigration = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstanceMigration",
  metadata: { name, namespace: "prod", uid, creationTimestamp: "2026-11-25T11:00:00Z" },
  spec: { vmiName: "db-0" },
  status: {
    phase: "Succeeded",
    migrationState: { migrationUid: uid, sourceNode: "node-a", targetNode: "node-b", completed: true },
    phaseTransitionTimestamps: [
      { phase: "Pending", phaseTransitionTimestamp: "2026-11-25T11:00:00Z" },
      { phase: "Succeeded", phaseTransitionTimestamp: "2026-11-25T11:00:40Z" },
    ],
  },
} as VirtualMachineInstanceMigration;

function event(
  reason: string,
  kind: string,
  object: string,
  times: Pick<Event, "lastTimestamp" | "eventTime" | "firstTimestamp">,
): Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${object}.${reason}`, namespace: "prod" },
    involvedObject: { kind, name: object, namespace: "prod" },
    reason,
    message: reason,
    type: "Normal",
    ...times,
  } as Event;
}

// As the list gives them: by object, the VMI's first, then the VMIM's.
const listed: Event[] = [
  event("Migrated", "VirtualMachineInstance", "db-0", { lastTimestamp: "2026-11-25T11:00:39Z" }),
  event("PreparingTarget", "VirtualMachineInstance", "db-0", { eventTime: "2026-11-25T11:00:10.500000Z" }),
  event("SuccessfulCreate", "VirtualMachineInstanceMigration", name, {
    firstTimestamp: "2026-11-25T11:00:01Z",
  }),
  event("SuccessfulMigration", "VirtualMachineInstanceMigration", name, {
    lastTimestamp: "2026-11-25T11:00:40Z",
  }),
  // The same second as Migrated, listed after it: ties keep their order.
  event("SuccessfulUpdate", "VirtualMachineInstanceMigration", name, {
    lastTimestamp: "2026-11-25T11:00:39Z",
  }),
];

/**
 * A fake clock whose time moves when a sleep ends, not when it begins: what is already queued
 * (the listed events) is handled before the short wait for trailing events runs out, as with a
 * real clock.
 */
class SettlingClock extends FakeClock {
  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    this.advance(ms);
  }
}

describe("followMigration of a finished migration", () => {
  it("tells the events already there in time order (last, event or first timestamp), ties as listed", async () => {
    let eventsSent: () => void = () => {};
    const sent = new Promise<void>((resolve) => {
      eventsSent = resolve;
    });
    const kube = fakeKube({
      watch: ((resource: string, options: { signal: AbortSignal }) =>
        (async function* () {
          if (resource === "event") {
            for (const object of listed) yield { type: "ADDED", object };
            yield { type: "SYNCED", resourceVersion: "9" };
            eventsSent();
          } else {
            // The migration (already final) only once the events are in.
            await sent;
            if (resource === "vmim") yield { type: "ADDED", object: finished };
            yield { type: "SYNCED", resourceVersion: "9" };
          }
          await new Promise((resolve) => options.signal.addEventListener("abort", resolve, { once: true }));
        })()) as never,
    });
    const changes: FollowChange[] = [];
    const end = await followMigration(
      kube,
      {
        namespace: "prod",
        vmName: "db-0",
        migration: finished,
        signal: new AbortController().signal,
        timeoutMs: 0,
        clock: new SettlingClock(Date.parse("2026-11-25T12:00:00Z")),
      },
      { onChange: (_view, change) => changes.push(change) },
    );
    kube.assertDone();
    expect(end.kind).toBe("done");
    expect(changes.flatMap((c) => (c.kind === "event" ? [c.event.reason] : []))).toEqual([
      "SuccessfulCreate",
      "PreparingTarget",
      "Migrated",
      "SuccessfulUpdate",
      "SuccessfulMigration",
    ]);
  });
});
