// The pre-flight panel: a target-nodes error lists the first ten nodes and why each cannot take
// the target pod, then how many more; the JSON data keeps every node.
import { describe, expect, it } from "vitest";
import { createIO } from "../../src/io/io.js";
import type { Verdict } from "../../src/migration/preflight.js";
import { renderVerdicts } from "../../src/render/migration-render.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

function rendered(verdicts: Verdict[]): string[] {
  const buffers = bufferedStreams();
  renderVerdicts(createIO(buffers.streams, { NO_COLOR: "1" }), "pre-flight prod/db", verdicts);
  return buffers.stderr().replace(/\n$/, "").split("\n");
}

describe("renderVerdicts", () => {
  it("lists ten refused nodes under the error, then says how many more, then the hint", () => {
    const nodes = Array.from({ length: 13 }, (_, i) => ({ node: `node-${i + 1}`, reason: "cordoned" }));
    const out = rendered([
      { check: "vmi-running", status: "ok", message: "VMI db is Running on node-1" },
      {
        check: "target-nodes",
        status: "error",
        message: "no node can take it: node-2, node-3, node-4 and 9 more: cordoned",
        hint: "uncordon one when its maintenance is over: kubectl uncordon node-2",
        nodes,
      },
    ]);
    expect(out).toEqual([
      "pre-flight prod/db",
      "  ok       VMI db is Running on node-1",
      "  error    no node can take it: node-2, node-3, node-4 and 9 more: cordoned",
      ...nodes.slice(0, 10).map((n) => `           ${n.node}: cordoned`),
      "           … and 3 more",
      "           uncordon one when its maintenance is over: kubectl uncordon node-2",
    ]);
  });

  it("lists every node when there are ten or fewer", () => {
    const out = rendered([
      {
        check: "target-nodes",
        status: "error",
        message: "no node can take it: node-2: cordoned",
        nodes: [
          { node: "node-1", reason: "the source node" },
          { node: "node-2", reason: "cordoned" },
        ],
      },
    ]);
    expect(out.slice(1)).toEqual([
      "  error    no node can take it: node-2: cordoned",
      "           node-1: the source node",
      "           node-2: cordoned",
    ]);
  });
});
