// -o yaml wherever -o json exists: for every command with data output, the built CLI's YAML is
// the same data as its JSON, read by a YAML 1.2 parser (the yaml package) and by a YAML 1.1 one
// (PyYAML, which retypes plain timestamps, yes/no, octal...), and neither carries anything but
// that data on stdout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { pyyamlLoad, pyyamlLoadAll } from "../helpers/pyyaml.js";
import { type SimCli, simCli } from "./sim-cli.js";

let sim: SimCli;
let upgrade: SimCli;
beforeAll(async () => {
  [sim, upgrade] = await Promise.all([
    simCli({ manualTime: true }),
    simCli({ scenario: "upgrade", manualTime: true }),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([sim?.close(), upgrade?.close()]);
});

const offline = "test/fixtures/diagnose-offline/healthy";

/** Fields that differ between two runs by nature (when the snapshot was taken, a dry run's names). */
function stable(data: unknown): unknown {
  return JSON.parse(JSON.stringify(data), (key, value) => (key === "takenAt" ? undefined : value));
}

describe("-o yaml says what -o json says", () => {
  it.each([
    ["version", () => sim, ["version"], 0],
    ["migrate --dry-run", () => sim, ["migrate", "fedora-web", "-n", "demo", "--dry-run"], 0],
    ["cancel (nothing to cancel)", () => sim, ["cancel", "fedora-web", "-n", "demo"], 0],
    ["restart --dry-run", () => sim, ["restart", "cirros-test", "-n", "demo", "--dry-run"], 0],
    ["outdated -A", () => upgrade, ["outdated", "-A"], 0],
    ["outdated -A --check", () => upgrade, ["outdated", "-A", "--check"], 0],
    ["diagnose (live)", () => sim, ["diagnose", "fedora-web", "-n", "demo"], 0],
    ["diagnose --from", () => sim, ["diagnose", "--from", offline], 0],
    ["help exit-codes", () => sim, ["help", "exit-codes"], 0],
    ["help failure-modes", () => sim, ["help", "failure-modes"], 0],
    ["help environment", () => sim, ["help", "environment"], 0],
  ] as const)("%s", async (_title, cluster, args, code) => {
    const json = await cluster().run([...args, "-o", "json"]);
    const yaml = await cluster().run([...args, "-o", "yaml"]);
    expect(json.stderr).not.toContain("error:");
    expect(json.code).toBe(code);
    expect(yaml.code).toBe(code);
    const fromJson = JSON.parse(json.stdout);
    const fromYaml = YAML.parse(yaml.stdout);
    expect(stable(fromYaml)).toEqual(stable(fromJson));
    expect(stable(pyyamlLoad(yaml.stdout))).toEqual(stable(fromJson));
    expect(`${json.stdout}${yaml.stdout}`).not.toContain("\u001B");
  });

  it("watch: NDJSON with -o json, one YAML document per change with -o yaml, the same records", async () => {
    // A finished migration stays in the table (and its data) for a while: make one.
    const moving = await simCli({ speed: 20 });
    const [json, yaml, oneJson, oneYaml] = await (async () => {
      try {
        const migrated = await moving.run(["migrate", "cirros-test", "-n", "demo"]);
        expect(migrated.code).toBe(0);
        return [
          await moving.run(["watch", "-A", "-o", "json", "--exit-on-done"]),
          await moving.run(["watch", "-A", "-o", "yaml", "--exit-on-done"]),
          await moving.run(["watch", "cirros-test", "-n", "demo", "-o", "json"]),
          await moving.run(["watch", "cirros-test", "-n", "demo", "-o", "yaml"]),
        ];
      } finally {
        await moving.close();
      }
    })();
    // One VM's finished migration: its times and timeline read back as strings under YAML 1.1.
    expect(oneJson.code).toBe(0);
    expect(oneYaml.code).toBe(0);
    const migration = JSON.parse(oneJson.stdout);
    expect(migration.timeline.length).toBeGreaterThan(0);
    expect(pyyamlLoad(oneYaml.stdout)).toEqual(migration);
    expect(YAML.parse(oneYaml.stdout)).toEqual(migration);
    expect(json.code).toBe(0);
    expect(yaml.code).toBe(0);
    const records = json.stdout
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
    const docs = YAML.parseAllDocuments(yaml.stdout).map((d) => d.toJS());
    expect(records.length).toBeGreaterThan(0);
    expect(docs).toEqual(records);
    // Each record carries RFC 3339 times: a YAML 1.1 parser reads them back as strings too.
    expect(records[0].startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(pyyamlLoadAll(yaml.stdout)).toEqual(records);
  });

  it("-o yaml on a question without a terminal: a usage error, nothing on stdout", async () => {
    const result = await sim.run(["restart", "cirros-test", "-n", "demo", "-o", "yaml"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("needs an answer and there is no terminal to ask on");
  });
});
