// Multus bridge networks end to end (issue 23) with the built CLI on the `bridges` scenario: the
// bridge vlan-13 is on node-1 and node-2 and not on node-3 (its NodeNetworkState). Pre-flight
// refuses --target-node node-3, warns about node-3 otherwise; a forced move there succeeds, the
// guest agent then reports vlan-13 without its address, the summary says so and diagnose names
// bridge-missing-on-node first. Without nmstate (default) the bridges are said to be unchecked.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { schemaErrors } from "../helpers/schemas.js";
import { ensureBuilt, lines } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
type Any = any;

let sim: SimCli | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const vlan13Address = (cli: SimCli) =>
  cli.vmi("vlan", "web-13").status.interfaces.find((i: Any) => i.name === "vlan-13");

describe("the bridges scenario", () => {
  it("--target-node node-3 stops at pre-flight naming vlan-13 and node-3; nothing is created", async () => {
    sim = await simCli({ scenario: "bridges", speed: 10 });
    const result = await sim.run(["migrate", "web-13", "-n", "vlan", "--target-node", "node-3"]);
    expect(result.code).toBe(8);
    expect(lines(result.stderr)).toContain(
      "  error    target node node-3 lacks bridge vlan-13: NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13; the VM would lose its network there",
    );
    expect(result.stderr).toContain(
      "hint: pick a node that has it: --target-node node-2; or configure it there with a NodeNetworkConfigurationPolicy",
    );
    expect(result.stdout).toBe("");
    expect(sim.migrations("vlan", "web-13")).toEqual([]);
  }, 60_000);

  it("without a target: a warning about node-3, and the move to the scheduler's node keeps the address", async () => {
    sim = await simCli({ scenario: "bridges", speed: 10 });
    const before = vlan13Address(sim).ipAddress;
    expect(before).toMatch(/^10\.13\.0\.\d+$/);
    const result = await sim.run(["migrate", "web-13", "-n", "vlan"]);
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toContain(
      "  warning  node-3 lacks bridge vlan-13 (NodeNetworkState node-3 status.currentState.interfaces: no interface vlan-13); the scheduler may pick it",
    );
    expect(lines(result.stderr)).toContain("           pin a node that has vlan-13: --target-node node-2");
    // The real target, from the server's VMI: the scheduler's least-loaded node has the bridge.
    const landed = sim.vmi("vlan", "web-13").status.nodeName;
    expect(landed).not.toBe("node-3");
    expect(lines(result.stdout)).toContain(`Succeeded  vlan/web-13 moved node-1 → ${landed}`);
    expect(lines(result.stdout)).toContain(
      `  network    vlan-13 (bridge vlan-13): ${before} → ${before}  kept`,
    );

    // -o json: the same move's networks[] (db-12 on vlan-12, which every node has).
    const db = await sim.run(["migrate", "db-12", "-n", "vlan", "-o", "json"]);
    expect(db.code).toBe(0);
    const data = JSON.parse(db.stdout) as Any;
    expect(schemaErrors("migration.schema.json", data)).toBe("");
    expect(data.targetNode).toBe(sim.vmi("vlan", "db-12").status.nodeName);
    const address = data.networks[0]?.ipsBefore[0];
    expect(address).toMatch(/^10\.12\.0\.\d+$/);
    expect(data.networks).toEqual([
      {
        name: "vlan-12",
        nad: "vlan/vlan-12",
        bridge: "vlan-12",
        ipsBefore: [address],
        ipsAfter: [address],
        kept: true,
      },
    ]);
  }, 90_000);

  it("forced onto node-3: the summary warns the address on vlan-13 is gone; diagnose reports bridge-missing-on-node first", async () => {
    sim = await simCli({ scenario: "bridges", speed: 10 });
    const before = vlan13Address(sim).ipAddress;
    const result = await sim.run(["migrate", "web-13", "-n", "vlan", "--target-node", "node-3", "--force"]);
    expect(result.code).toBe(0);
    expect(sim.vmi("vlan", "web-13").status.nodeName).toBe("node-3");
    // The guest keeps running; its agent reports the interface without the address.
    expect(sim.vmi("vlan", "web-13").status.phase).toBe("Running");
    expect(vlan13Address(sim).ipAddress).toBeUndefined();
    const out = lines(result.stdout);
    expect(out).toContain(`  network    vlan-13 (bridge vlan-13): ${before} → none`);
    expect(out).toContain(
      `  warning    ${before} on vlan-13 is gone: the interface has no address on the new node`,
    );

    const diagnosed = await sim.run(["diagnose", "web-13", "-n", "vlan", "-o", "json"]);
    expect(diagnosed.code).toBe(7);
    const report = JSON.parse(diagnosed.stdout) as Any;
    expect(report.findings[0].id).toBe("bridge-missing-on-node");
    expect(report.findings[0].summary).toContain("web-13 runs on node-3");
    expect(report.findings[0].fix.commands).toContain("kvmig migrate web-13 -n vlan --target-node node-1");

    // diagnose's fix, run: back on a node with the bridge, the address comes back.
    const back = await sim.run(["migrate", "web-13", "-n", "vlan", "--target-node", "node-1"]);
    expect(back.code).toBe(0);
    expect(sim.vmi("vlan", "web-13").status.nodeName).toBe("node-1");
    expect(vlan13Address(sim).ipAddress).toBe(before);
    expect(lines(back.stdout)).toContain(
      `  network    vlan-13 (bridge vlan-13): none → ${before}  (no address was reported before the move)`,
    );
  }, 120_000);
});

describe("the default scenario (no kubernetes-nmstate)", () => {
  it("the pre-flight line says the bridges could not be checked; the move succeeds with networks[]", async () => {
    sim = await simCli({ speed: 10 });
    const dryRun = await sim.run(["migrate", "win-app", "-n", "demo", "--dry-run"]);
    expect(dryRun.code).toBe(0);
    expect(lines(dryRun.stderr)).toContain(
      "  warning  bridge br1 not checked on the nodes: kubernetes-nmstate is not installed (no nmstate.io/v1beta1 NodeNetworkState API)",
    );
    const result = await sim.run(["migrate", "win-app", "-n", "demo", "-o", "json"]);
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as Any;
    expect(schemaErrors("migration.schema.json", data)).toBe("");
    expect(data.networks).toHaveLength(1);
    expect(data.networks[0]).toMatchObject({
      name: "vlan-13",
      nad: "demo/vlan-13",
      bridge: "br1",
      kept: true,
    });

    const plain = await sim.run(["migrate", "fedora-web", "-n", "demo"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain("not checked on the nodes");
    const json = await sim.run(["migrate", "rhel-db", "-n", "demo", "-o", "json"]);
    expect((JSON.parse(json.stdout) as Any).networks).toEqual([]);
  }, 120_000);
});
