// Issue 19 item 2: a suggested command acts on the cluster the user just used. Every kvmig hint
// carries the connection flags given (--kubeconfig, --context, or --sim), kubectl and virtctl
// hints carry --kubeconfig/--context too, and the pre-flight header and the confirmations name
// the context and the server.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { simContext } from "../../src/util/shell.js";
import { distEntry, ensureBuilt, lines, runProcess } from "./built-cli.js";
import { type SimCli, simCli, stoppedVm } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe("hints carry the connection flags the user gave", () => {
  it("migrate --no-wait with --kubeconfig and --context: the follow hint names both, the header names the cluster", async () => {
    sim = await simCli({ speed: 10 });
    const env = { ...sim.env, KUBECONFIG: "/nonexistent/kubeconfig" };
    const args = ["migrate", "fedora-web", "-n", "demo", "--no-wait", "--kubeconfig", sim.kubeconfig];
    const result = await runProcess([distEntry, ...args, "--context", simContext], {
      env,
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `pre-flight demo/fedora-web on context ${simContext} (${sim.cluster.url})`,
    );
    expect(result.stdout).toContain(
      `follow it with: kvmig watch fedora-web -n demo --kubeconfig ${sim.kubeconfig} --context ${simContext}`,
    );
    // The hint, run as printed with the KUBECONFIG that would otherwise mislead it, reads the same cluster.
    const follow = /follow it with: kvmig (.*)$/m.exec(result.stdout)?.[1]?.split(" ") ?? [];
    const watched = await runProcess([distEntry, ...follow, "-o", "json"], { env, timeoutMs: 60_000 });
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('"vm": "fedora-web"');
  }, 90_000);

  it("a stopped VM with --context: the virtctl and kubectl hints carry --context", async () => {
    sim = await stoppedVm();
    const result = await sim.run(["migrate", "fedora-web", "-n", "demo", "--context", simContext]);
    expect(result.code).toBe(8);
    expect(lines(result.stderr).at(-1)).toBe(
      `hint: start it first: virtctl --context ${simContext} start fedora-web -n demo; kubectl --context ${simContext} get vm,vmi fedora-web -n demo shows both`,
    );
  }, 40_000);

  it("under --sim, kvmig hints say --sim and kubectl hints name the sim's context, never the current one", async () => {
    const missing = await runProcess([distEntry, "migrate", "nosuch", "-n", "demo", "--sim"], {
      env: { HOME: "/nonexistent/home", PATH: process.env.PATH ?? "" },
      timeoutMs: 30_000,
    });
    expect(missing.code).toBe(5);
    expect(lines(missing.stderr).at(-1)).toBe(
      `hint: list the VMs with: kubectl --context ${simContext} get vm,vmi -n demo`,
    );
    const started = await runProcess(
      [distEntry, "migrate", "fedora-web", "-n", "demo", "--no-wait", "--sim"],
      {
        env: { HOME: "/nonexistent/home", PATH: process.env.PATH ?? "" },
        timeoutMs: 30_000,
      },
    );
    expect(started.code).toBe(0);
    expect(started.stdout).toContain("follow it with: kvmig watch fedora-web -n demo --sim\n");
  }, 60_000);

  it("without connection flags, hints stay as short as before", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["migrate", "nosuch", "-n", "demo"]);
    expect(result.code).toBe(5);
    expect(lines(result.stderr).at(-1)).toBe("hint: list the VMs with: kubectl get vm,vmi -n demo");
  }, 40_000);
});
