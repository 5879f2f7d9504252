// The live table of `kvmig watch` on a terminal: redrawn in place, every line within the width,
// against a real simulated cluster (in process, over HTTPS).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import type { Context } from "../../src/context.js";
import { createIO } from "../../src/io/io.js";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import { connectLazily } from "../../src/k8s/provider.js";
import { runMain } from "../../src/main.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { bufferedStreams } from "../helpers/buffered-io.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { simRequest } from "../helpers/sim.js";

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function watchOnTerminal(args: string[], columns: number) {
  if (!cluster) throw new Error("no cluster");
  const kubeconfig = join(tempDir(), "kubeconfig");
  writeFileSync(kubeconfig, cluster.kubeconfig(), { mode: 0o600 });
  const env = { HOME: "/nonexistent", KUBECONFIG: kubeconfig, NO_COLOR: "1" };
  const buffers = bufferedStreams({ tty: true, columns });
  const ctx: Context = {
    io: createIO(buffers.streams, env),
    env,
    clock: systemClock,
    signal: new AbortController().signal,
    prompter: new NonInteractivePrompter(),
    connect: connectLazily,
    programName: "kvmig",
  };
  const code = await runMain(args, ctx);
  return { code, stdout: buffers.stdout() };
}

describe("kvmig watch on a terminal", () => {
  it.each([80, 120])(
    "redraws the table in place within %i columns until nothing is in flight",
    async (columns) => {
      cluster = await startSimCluster({ seed: 3, speed: 20 });
      for (const vm of ["fedora-web", "cirros-test"]) {
        const started = await simRequest(
          cluster,
          "PUT",
          `/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/${vm}/migrate`,
          { body: {} },
        );
        expect(started.status).toBe(202);
      }
      const { code, stdout } = await watchOnTerminal(["watch", "-A", "--exit-on-done"], columns);
      expect(code).toBe(0);
      // Each redraw moves the cursor up over the previous table and clears below it.
      const esc = String.fromCharCode(27);
      const redraw = new RegExp(`${esc}\\[\\d+A${esc}\\[0J`);
      expect(stdout).toMatch(redraw);
      const frames = stdout.split(redraw);
      const last = stripVTControlCharacters(frames.at(-1) ?? "")
        .trimEnd()
        .split("\n");
      expect(last[0]).toMatch(
        columns >= 110
          ? /^VM +NAMESPACE +PHASE +SOURCE → TARGET +ELAPSED +PROGRESS +MIGRATION$/
          : /^VM +NAMESPACE +PHASE +SOURCE → TARGET +ELAPSED +PROGRESS$/,
      );
      expect(
        last
          .slice(1)
          .map((l) => l.split(/ {2,}/).slice(0, 3).join(" "))
          .sort(),
      ).toEqual(["cirros-test demo Succeeded", "fedora-web demo Succeeded"]);
      for (const frame of frames) {
        for (const line of stripVTControlCharacters(frame).split("\n"))
          expect(line.length).toBeLessThan(columns);
      }
    },
    30_000,
  );
});
