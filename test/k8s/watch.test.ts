// List-then-watch against a scripted loopback API server: dropped streams, 410 Gone in the
// stream and as an HTTP answer, bookmarks, paging. What kvmig sees must be exactly the changes
// the server made, in order: nothing lost, nothing repeated.
import type { ServerResponse } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import { connect } from "../../src/k8s/connect.js";
import type { KubeClient, WatchUpdate } from "../../src/k8s/kube-client.js";
import type { VirtualMachineInstanceMigration } from "../../src/k8s/types.js";
import {
  type RecordedRequest,
  ScriptedApiServer,
  sendJson,
  sendStatus,
  startStream,
  writeEvent,
} from "../helpers/api-server.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { tempDir, writeKubeconfig } from "../helpers/kubeconfig.js";

const collection = "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstancemigrations";

let server: ScriptedApiServer;
let client: KubeClient;
let clock: FakeClock;

function vmim(name: string, resourceVersion: string, phase = "Running"): VirtualMachineInstanceMigration {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigration",
    metadata: { name, namespace: "vms", resourceVersion, uid: `uid-${name}` },
    spec: { vmiName: name.replace("mig-", "") },
    status: { phase: phase as "Running" },
  };
}

function list(resourceVersion: string, items: VirtualMachineInstanceMigration[], next?: string) {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstanceMigrationList",
    metadata: { resourceVersion, ...(next ? { continue: next } : {}) },
    items,
  };
}

type Step = (req: RecordedRequest, res: ServerResponse) => void;

/** Serves the collection: lists from `lists` in turn, watches from `watches` in turn. */
function script(
  lists: Step[],
  watches: Step[],
): { listCalls: RecordedRequest[]; watchCalls: RecordedRequest[] } {
  const listCalls: RecordedRequest[] = [];
  const watchCalls: RecordedRequest[] = [];
  server.on("GET", collection, (req, res) => {
    const watching = req.query.get("watch") === "1";
    const calls = watching ? watchCalls : listCalls;
    const steps = watching ? watches : lists;
    const step = steps[calls.length];
    calls.push(req);
    if (!step) {
      sendStatus(res, 500, "InternalError", `no scripted ${watching ? "watch" : "list"} #${calls.length}`);
      return;
    }
    step(req, res);
  });
  return { listCalls, watchCalls };
}

/** Holds a watch open until the client goes away. */
const holdOpen: Step = (_req, res) => startStream(res);

function summary(update: WatchUpdate<VirtualMachineInstanceMigration>): string {
  return update.type === "SYNCED"
    ? `SYNCED@${update.resourceVersion}`
    : `${update.type} ${update.object.metadata.name}@${update.object.metadata.resourceVersion}`;
}

/** Runs the watch until `count` updates arrived, then aborts it. */
async function collect(count: number): Promise<string[]> {
  const controller = new AbortController();
  const seen: string[] = [];
  const timer = setTimeout(() => controller.abort(new Error("test timed out")), 10_000);
  try {
    for await (const update of client.watch("vmim", { namespace: "vms", signal: controller.signal })) {
      seen.push(summary(update));
      if (seen.length === count) controller.abort();
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

beforeEach(async () => {
  server = await ScriptedApiServer.start();
  clock = new FakeClock();
  const kubeconfig = writeKubeconfig(tempDir(), { server: server.url, caPem: server.pki.caPem, token: "t" });
  client = await connect({ kubeconfig }, { env: {}, clock, userAgent: "kvmig-test" });
});

afterEach(async () => {
  client.close();
  await server.close();
  expect(server.unexpected).toEqual([]);
});

describe("list-then-watch", () => {
  it("resumes from the last resourceVersion after the stream drops mid-way", async () => {
    const { watchCalls } = script(
      [(_req, res) => sendJson(res, 200, list("10", [vmim("mig-a", "10")]))],
      [
        (_req, res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-a", "11"));
          writeEvent(res, "ADDED", vmim("mig-b", "12"));
          // The connection dies without a clean end, as when an API server restarts.
          setTimeout(() => res.destroy(), 20);
        },
        (_req, res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-b", "13", "Succeeded"));
          writeEvent(res, "DELETED", vmim("mig-a", "14"));
        },
      ],
    );

    const seen = await collect(6);

    expect(seen).toEqual([
      "ADDED mig-a@10",
      "SYNCED@10",
      "MODIFIED mig-a@11",
      "ADDED mig-b@12",
      "MODIFIED mig-b@13",
      "DELETED mig-a@14",
    ]);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["10", "12"]);
    expect(watchCalls[0]?.query.get("allowWatchBookmarks")).toBe("true");
    // One failure, one backoff through the clock: the first step, 200 ms with jitter.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(200);
  });

  it("a stream the server ends cleanly (its timeout) is resumed at once, without backoff", async () => {
    const { watchCalls } = script(
      [(_req, res) => sendJson(res, 200, list("5", []))],
      [
        (_req, res) => {
          startStream(res);
          writeEvent(res, "ADDED", vmim("mig-a", "6"));
          res.end();
        },
        (_req, res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-a", "7"));
        },
      ],
    );
    expect(await collect(3)).toEqual(["SYNCED@5", "ADDED mig-a@6", "MODIFIED mig-a@7"]);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["5", "6"]);
    expect(clock.sleeps).toEqual([]);
  });

  it("ERROR 410 in the stream: lists again and delivers only what changed meanwhile", async () => {
    const { listCalls, watchCalls } = script(
      [
        (_req, res) => sendJson(res, 200, list("10", [vmim("mig-a", "8"), vmim("mig-b", "9")])),
        // While kvmig was away: a changed again, b deleted, c created.
        (_req, res) => sendJson(res, 200, list("20", [vmim("mig-a", "16"), vmim("mig-c", "18")])),
      ],
      [
        (_req, res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-a", "11"));
          writeEvent(res, "ERROR", {
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            message: "too old resource version: 11 (15)",
            reason: "Expired",
            code: 410,
          });
        },
        (_req, res) => {
          startStream(res);
          writeEvent(res, "ADDED", vmim("mig-d", "21"));
        },
      ],
    );

    const seen = await collect(8);

    expect(seen).toEqual([
      "ADDED mig-a@8",
      "ADDED mig-b@9",
      "SYNCED@10",
      "MODIFIED mig-a@11",
      "MODIFIED mig-a@16",
      "ADDED mig-c@18",
      "DELETED mig-b@9",
      "ADDED mig-d@21",
    ]);
    expect(listCalls).toHaveLength(2);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["10", "20"]);
  });

  it("HTTP 410 on resume: lists again without repeating what was already delivered", async () => {
    const { listCalls, watchCalls } = script(
      [
        (_req, res) => sendJson(res, 200, list("10", [vmim("mig-a", "8")])),
        // mig-a is unchanged since the event kvmig already delivered; only mig-b is new.
        (_req, res) => sendJson(res, 200, list("14", [vmim("mig-a", "11"), vmim("mig-b", "13")])),
      ],
      [
        (_req, res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-a", "11"));
          setTimeout(() => res.destroy(), 20);
        },
        (_req, res) => sendStatus(res, 410, "Expired", "too old resource version: 11 (12)"),
        (_req, res) => {
          startStream(res);
          writeEvent(res, "MODIFIED", vmim("mig-b", "15", "Succeeded"));
        },
      ],
    );

    const seen = await collect(5);

    expect(seen).toEqual([
      "ADDED mig-a@8",
      "SYNCED@10",
      "MODIFIED mig-a@11",
      "ADDED mig-b@13",
      "MODIFIED mig-b@15",
    ]);
    expect(listCalls).toHaveLength(2);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["10", "11", "14"]);
  });

  it("resumes from a bookmark's resourceVersion, and a replayed event is not delivered twice", async () => {
    const { watchCalls } = script(
      [(_req, res) => sendJson(res, 200, list("3", [vmim("mig-a", "3")]))],
      [
        (_req, res) => {
          startStream(res);
          writeEvent(res, "BOOKMARK", {
            kind: "VirtualMachineInstanceMigration",
            metadata: { resourceVersion: "30" },
          });
          res.end();
        },
        (_req, res) => {
          startStream(res);
          // A server may replay the object at the version kvmig already has.
          writeEvent(res, "MODIFIED", vmim("mig-a", "3"));
          writeEvent(res, "MODIFIED", vmim("mig-a", "31"));
        },
      ],
    );
    expect(await collect(3)).toEqual(["ADDED mig-a@3", "SYNCED@3", "MODIFIED mig-a@31"]);
    expect(watchCalls.map((r) => r.query.get("resourceVersion"))).toEqual(["3", "30"]);
  });

  it("backs off with growing, capped waits while the server is down, then carries on", async () => {
    const down: Step = (_req, res) => sendStatus(res, 503, "ServiceUnavailable", "the server is restarting");
    script(
      [(_req, res) => sendJson(res, 200, list("1", []))],
      [
        down,
        down,
        down,
        down,
        down,
        down,
        down,
        (_req, res) => {
          startStream(res);
          writeEvent(res, "ADDED", vmim("mig-a", "2"));
        },
      ],
    );
    expect(await collect(2)).toEqual(["SYNCED@1", "ADDED mig-a@2"]);
    // 200 ms doubling, capped at 5 s; each between half and all of its step (jitter).
    const steps = [200, 400, 800, 1600, 3200, 5000, 5000];
    expect(clock.sleeps).toHaveLength(steps.length);
    clock.sleeps.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual((steps[i] ?? 0) / 2);
      expect(wait).toBeLessThanOrEqual(steps[i] ?? 0);
    });
  });

  it("a permanent error (403) ends the watch with that error", async () => {
    script(
      [(_req, res) => sendJson(res, 200, list("1", []))],
      [
        (_req, res) =>
          sendStatus(res, 403, "Forbidden", 'cannot watch resource "virtualmachineinstancemigrations"'),
      ],
    );
    const error = await collect(99).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect((error as ApiError).exitCode).toBe(4);
  });

  it("the initial list is read page by page", async () => {
    const { listCalls } = script(
      [
        (_req, res) => sendJson(res, 200, list("40", [vmim("mig-a", "38")], "page-2")),
        (_req, res) => sendJson(res, 200, list("40", [vmim("mig-b", "39")])),
      ],
      [holdOpen],
    );
    expect(await collect(3)).toEqual(["ADDED mig-a@38", "ADDED mig-b@39", "SYNCED@40"]);
    expect(listCalls.map((r) => r.query.get("continue"))).toEqual([null, "page-2"]);
  });

  it("ends quietly when the signal aborts while the stream is idle", async () => {
    script([(_req, res) => sendJson(res, 200, list("1", []))], [holdOpen]);
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const update of client.watch("vmim", { namespace: "vms", signal: controller.signal })) {
        seen.push(summary(update));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await done;
    expect(seen).toEqual(["SYNCED@1"]);
  });
});

describe("paging", () => {
  it("reads three pages with limit and continue, in order", async () => {
    const names = ["vm-1", "vm-2", "vm-3", "vm-4", "vm-5"];
    const vmi = (name: string) => ({ metadata: { name, namespace: "vms", resourceVersion: "7" } });
    const pages: Record<string, { items: string[]; next?: string }> = {
      "": { items: names.slice(0, 2), next: "token-2" },
      "token-2": { items: names.slice(2, 4), next: "token-3" },
      "token-3": { items: names.slice(4) },
    };
    server.on("GET", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachineinstances", (req, res) => {
      const page = pages[req.query.get("continue") ?? ""];
      if (!page || req.query.get("limit") !== "2") {
        sendStatus(res, 400, "BadRequest", "bad page request");
        return;
      }
      sendJson(res, 200, {
        kind: "VirtualMachineInstanceList",
        metadata: { resourceVersion: "7", ...(page.next ? { continue: page.next } : {}) },
        items: page.items.map(vmi),
      });
    });

    const sizes: number[] = [];
    for await (const page of client.listPages("vmi", { namespace: "vms", pageSize: 2 }))
      sizes.push(page.length);
    expect(sizes).toEqual([2, 2, 1]);

    const all = await client.list("vmi", { namespace: "vms", pageSize: 2, labelSelector: "app=db" });
    expect(all.map((v) => v.metadata.name)).toEqual(names);
    const last = server.requests.slice(-3);
    expect(last.map((r) => r.query.get("continue"))).toEqual([null, "token-2", "token-3"]);
    expect(last.every((r) => r.query.get("labelSelector") === "app=db")).toBe(true);
  });

  it("lists across all namespaces when no namespace is given", async () => {
    server.on("GET", "/apis/kubevirt.io/v1/virtualmachineinstances", (req, res) =>
      sendJson(res, 200, {
        metadata: { resourceVersion: "1" },
        items: [{ metadata: { name: "x", namespace: req.query.get("labelSelector") ?? "" } }],
      }),
    );
    const all = await client.list("vmi", { labelSelector: "kubevirt.io/outdatedLauncherImage" });
    expect(all.map((v) => v.metadata.namespace)).toEqual(["kubevirt.io/outdatedLauncherImage"]);
  });
});
