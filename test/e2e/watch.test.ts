// kvmig watch end to end: the built CLI against the simulated cluster over real HTTPS. Without a
// VM: NDJSON or one line per change in a pipe; with a VM: its migration followed with its events.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/kubeconfig.js";
import { simRequest } from "../helpers/sim.js";
import { distEntry, ensureBuilt, lines, repoRoot } from "./built-cli.js";
import { normalize, type SimCli, simCli, until } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

let sim: SimCli | undefined;
let proxy: DroppingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await sim?.close();
  sim = undefined;
});

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

const phaseOrder = [
  "",
  "Pending",
  "Scheduling",
  "Scheduled",
  "PreparingTarget",
  "TargetReady",
  "Running",
  "Succeeded",
];

/** Starts a migration with `migrate --no-wait` and returns its VMIM as stored. */
async function startMigration(s: SimCli, namespace: string, vm: string): Promise<Any> {
  const started = await s.run(["migrate", vm, "-n", namespace, "--no-wait"]);
  expect(started.code).toBe(0);
  const [m] = s.migrations(namespace, vm);
  expect(m).toBeDefined();
  return m;
}

/** A TCP proxy on loopback in front of the simulated API server that can cut every connection. */
class DroppingProxy {
  readonly sockets = new Set<Socket>();
  connections = 0;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<DroppingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new DroppingProxy(server, (server.address() as AddressInfo).port);
    server.on("connection", (client) => {
      proxy.connections++;
      const upstream = connect(targetPort, "127.0.0.1");
      client.pipe(upstream);
      upstream.pipe(client);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on("error", () => socket.destroy());
        socket.on("close", () => proxy.sockets.delete(socket));
      }
    });
    return proxy;
  }

  /** Cuts every open connection (the new ones still get through). */
  drop(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("kvmig watch without a VM", () => {
  it("-o json --exit-on-done prints NDJSON while a migration runs and exits 0 once nothing is in flight", async () => {
    sim = await simCli({ speed: 2 });
    const m = await startMigration(sim, "demo", "fedora-web");
    const result = await sim.run(["watch", "-n", "demo", "-o", "json", "--exit-on-done"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");

    const objects = lines(result.stdout).map((line) => JSON.parse(line));
    expect(objects.length).toBeGreaterThanOrEqual(2);
    for (const o of objects) {
      expect(o).toMatchObject({
        vm: "fedora-web",
        namespace: "demo",
        migration: m.metadata.name,
        sourceNode: "node-1",
      });
      expect(["ADDED", "MODIFIED", "PROGRESS"]).toContain(o.type);
      expect(phaseOrder).toContain(o.phase);
      for (const key of [
        "vm",
        "namespace",
        "migration",
        "phase",
        "sourceNode",
        "targetNode",
        "startedAt",
        "endedAt",
      ])
        expect(o).toHaveProperty(key);
    }
    // The phases only move forward, from the first line to Succeeded on the last.
    const indexes = objects.map((o) => phaseOrder.indexOf(o.phase));
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(objects[0].type).toBe("ADDED");
    const last = objects.at(-1);
    const target = sim.vmi("demo", "fedora-web").status.nodeName;
    expect(target).not.toBe("node-1");
    expect(last).toMatchObject({ type: "MODIFIED", phase: "Succeeded", targetNode: target });
    expect(Date.parse(last.endedAt)).toBeGreaterThanOrEqual(Date.parse(last.startedAt));
    expect(new Set(objects.map((o) => o.phase)).size).toBeGreaterThanOrEqual(2);
    // While it runs the VMIM does not name its target yet; the VMI's target label does.
    const progress = objects.filter((o) => o.type === "PROGRESS");
    expect(progress.length).toBeGreaterThan(0);
    for (const o of progress) expect(o).toMatchObject({ phase: "Running", targetNode: target });
  }, 40_000);

  it("leaves out migrations that finished long ago, as the table does (-o json and in a pipe)", async () => {
    // busy-db's last migration failed three hours ago (the scenario's history).
    sim = await simCli({ speed: 10, scenario: "not-converging" });
    expect(sim.migrations("data", "busy-db")).toHaveLength(1);
    const m = await startMigration(sim, "data", "quiet-web");
    const json = await sim.run(["watch", "-n", "data", "-o", "json", "--exit-on-done"]);
    expect(json.code).toBe(0);
    const objects = lines(json.stdout).map((line) => JSON.parse(line));
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.map((o) => `${o.vm} ${o.migration}`)).toEqual(
      objects.map(() => `quiet-web ${m.metadata.name}`),
    );
    expect(objects.at(-1)).toMatchObject({ phase: "Succeeded" });

    const text = await sim.run(["watch", "-n", "data", "--exit-on-done"]);
    expect(text.code).toBe(0);
    // Nothing in flight: the recently finished quiet-web migration only, under the column names.
    expect(lines(normalize(text.stdout))).toEqual([
      expect.stringMatching(/^TIME +VM +PHASE +TRIGGER +SOURCE → TARGET +PROGRESS +MIGRATION$/),
      expect.stringMatching(
        new RegExp(`^<t> +quiet-web +Succeeded +user +node-2 → node-[13] +- +${m.metadata.name}$`),
      ),
    ]);
  }, 40_000);

  it("in a pipe (no -o json): column names, then one line per change stamped with its own time, ending with Succeeded and the route", async () => {
    sim = await simCli({ speed: 2 });
    const m = await startMigration(sim, "demo", "fedora-web");
    const result = await sim.run(["watch", "-n", "demo", "--exit-on-done"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const target = sim.vmi("demo", "fedora-web").status.nodeName;

    const [header, ...out] = lines(result.stdout);
    expect(header).toMatch(/^TIME +VM +PHASE +TRIGGER +SOURCE → TARGET +PROGRESS +MIGRATION$/);
    const cells = out.map((line) => line.split(/ {3,}/));
    for (const row of cells) {
      expect(row).toEqual([
        expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
        "fedora-web",
        expect.stringMatching(new RegExp(`^(${phaseOrder.slice(1).join("|")})$`)),
        "user",
        expect.stringMatching(/^node-1( → node-[23])?$/),
        expect.stringMatching(/^(-|[\d.]+ [KMG]?i?B left)$/),
        m.metadata.name,
      ]);
    }
    // A line is news: never the same phase, route and progress twice for the migration.
    const said = cells.map((row) => row.slice(2, 6).join(" "));
    expect(new Set(said).size).toBe(said.length);
    // A phase line is stamped with the migration's own time of that phase (a progress line with
    // the launcher's), not with the time kvmig saw it.
    const stored = sim.migrations("demo", "fedora-web")[0];
    const transitions = new Map<string, string>(
      (stored?.status?.phaseTransitionTimestamps ?? []).map((t: Any) => [
        t.phase,
        t.phaseTransitionTimestamp,
      ]),
    );
    const phaseLines = cells.filter((row) => row[5] === "-");
    expect(phaseLines.length).toBeGreaterThanOrEqual(2);
    for (const row of phaseLines)
      expect([transitions.get(row[2] ?? ""), stored?.metadata.creationTimestamp]).toContain(row[0]);
    const last = cells.at(-1) ?? [];
    const phases = cells.map((row) => row[2] as string);
    const indexes = phases.map((p) => phaseOrder.indexOf(p));
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(last.slice(1, 5)).toEqual(["fedora-web", "Succeeded", "user", `node-1 → ${target}`]);
  }, 40_000);

  it("--exit-on-done with nothing in flight returns at once (exit 0)", async () => {
    sim = await simCli({ speed: 10 });
    const json = await sim.run(["watch", "-n", "demo", "-o", "json", "--exit-on-done"]);
    expect(json.code).toBe(0);
    expect(json.stdout).toBe("");
    expect(json.stderr).toBe("");
  }, 30_000);

  it("resumes by itself when the watch stream drops, and still sees the migration to its end", async () => {
    sim = await simCli({ speed: 2 });
    const m = await startMigration(sim, "demo", "fedora-web");
    const p = await DroppingProxy.start(sim.cluster.port);
    proxy = p;
    // The same kubeconfig, through the proxy (the serving certificate is for 127.0.0.1, any port).
    const kubeconfig = join(tempDir(), "kubeconfig");
    writeFileSync(
      kubeconfig,
      sim.cluster.kubeconfig().replace(`127.0.0.1:${sim.cluster.port}`, `127.0.0.1:${p.port}`),
      { mode: 0o600 },
    );
    const child = spawn(
      process.execPath,
      [distEntry, "watch", "-n", "demo", "-o", "json", "--exit-on-done", "-v"],
      { cwd: repoRoot, env: { ...sim.env, KUBECONFIG: kubeconfig }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

    // Once the first line is out (the watch is open), cut every connection while it still runs.
    await until(() => stdout.includes("\n"));
    expect(sim.migrations("demo", "fedora-web")[0].status.phase).not.toBe("Succeeded");
    const before = p.connections;
    p.drop();

    expect(await exited).toBe(0);
    expect(p.connections).toBeGreaterThan(before);
    expect(stderr).toMatch(/dropped .*; resuming from resourceVersion \d+/);
    const objects = lines(stdout).map((line) => JSON.parse(line));
    expect(objects.at(-1)).toMatchObject({ migration: m.metadata.name, phase: "Succeeded" });
    // Resuming from the last resourceVersion repeats nothing: one ADDED for the migration.
    expect(objects.filter((o) => o.type === "ADDED")).toHaveLength(1);
  }, 40_000);
});

describe("kvmig watch VM", () => {
  it("follows a running migration to the summary and prints the VMI and VMIM events", async () => {
    sim = await simCli({ speed: 4 });
    const m = await startMigration(sim, "demo", "fedora-web");
    const result = await sim.run(["watch", "fedora-web", "-n", "demo"]);
    expect(result.code).toBe(0);
    const target = sim.vmi("demo", "fedora-web").status.nodeName;
    expect(target).not.toBe("node-1");

    const stderr = lines(normalize(result.stderr));
    const events = stderr.filter((l) => l.startsWith("  event     "));
    for (const e of events) expect(e).toMatch(/^ {2}event {5}(Normal|Warning) \w+ \w+\/[\w-]+: .+$/);
    expect(events).toContainEqual(
      `  event     Normal Migrated VirtualMachineInstance/fedora-web: The VirtualMachineInstance migrated to node ${target}.`,
    );
    expect(events).toContainEqual(
      `  event     Normal SuccessfulMigration VirtualMachineInstanceMigration/${m.metadata.name}: Source node reported migration succeeded`,
    );
    // The timeline as with migrate, ending with Succeeded.
    expect(stderr).toContainEqual(
      expect.stringMatching(new RegExp(`^ {2}Running +<d> {3}node-1 → ${target}$`)),
    );
    expect(stderr.at(-1)).toBe("  Succeeded");
    // The summary on stdout (whether its first line names the migration is the renderer's choice).
    expect(lines(result.stdout)[0]).toMatch(
      new RegExp(`^Succeeded {2}(migration ${m.metadata.name}: )?demo/fedora-web moved node-1 → ${target}$`),
    );
    expect(lines(result.stdout)).toContainEqual(expect.stringMatching(/^ {2}total {6}\S+$/));
  }, 40_000);

  it("for a VM with no migration: exit 5 with the command that starts one", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["watch", "fedora-web", "-n", "demo"]);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      "error: no migration found for demo/fedora-web",
      "hint: start one with: kvmig migrate fedora-web -n demo",
    ]);
  }, 30_000);

  it("for a stopped VM: exit 5, and the hint starts the VM rather than migrating it", async () => {
    sim = await simCli({ speed: 10 });
    const stopped = await simRequest(
      sim.cluster,
      "PUT",
      "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/stop",
      { body: {} },
    );
    expect(stopped.status).toBe(202);
    await until(() => sim?.vmi("demo", "fedora-web") === undefined);
    const result = await sim.run(["watch", "fedora-web", "-n", "demo"]);
    expect(result.code).toBe(5);
    expect(lines(result.stderr)).toEqual([
      "error: no migration found for demo/fedora-web",
      "hint: the VM is not running (no VMI), so there is nothing to migrate; start it with: virtctl start fedora-web -n demo",
    ]);
  }, 40_000);

  it("a VM with -A is a usage error (exit 2)", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["watch", "fedora-web", "-A"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      "error: a VM name and --all-namespaces cannot be combined",
      "hint: name the VM's namespace with -n, or leave out the VM to watch every migration",
    ]);
  }, 30_000);

  it("an unknown VM is exit 5", async () => {
    sim = await simCli({ speed: 10 });
    const result = await sim.run(["watch", "nope", "-n", "demo"]);
    expect(result.code).toBe(5);
    expect(lines(result.stderr)).toEqual([
      'error: VirtualMachine "nope" not found in namespace "demo"',
      "hint: list the VMs with: kubectl get vm,vmi -n demo",
    ]);
  }, 30_000);
});
