// kubectl's and virtctl's spellings through the built CLI against the simulated cluster: -v=N,
// --dry-run=server|client|none, --FLAG=true|false, and virtctl's migrate-cancel,
// --addedNodeSelector and restart --grace-period; each error path one line, a hint and exit 2.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimCli, simCli } from "./sim-cli.js";

let sim: SimCli;
beforeAll(async () => {
  sim = await simCli({ manualTime: true });
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

/** The demo VMs' positional argument and namespace. */
const fedora = ["fedora-web", "-n", "demo"];
const cirros = ["cirros-test", "-n", "demo"];

/** A fresh cluster for a test that changes it. */
async function fresh<T>(body: (s: SimCli) => Promise<T>): Promise<T> {
  const s = await simCli({ manualTime: true });
  try {
    return await body(s);
  } finally {
    await s.close();
  }
}

/** The API requests -v=6 logs: `GET /api/v1/... 200 OK in 3ms`. */
const requests = (stderr: string) =>
  stderr.split("\n").filter((line) => /^(GET|PUT|POST|PATCH|DELETE) \//.test(line));
/** The requests that could change something: not reads, nor the access reviews (POSTs that only ask). */
const writes = (stderr: string) =>
  requests(stderr).filter((line) => !line.startsWith("GET") && !line.includes("/selfsubjectaccessreviews "));

function usage(result: { stdout: string; stderr: string; code: number | null }, message: string) {
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines[0]).toBe(`error: ${message}`);
  expect(lines[1]).toMatch(/^hint: /);
  expect(lines).toHaveLength(2);
  expect(result.stdout).toBe("");
  expect(result.code).toBe(2);
}

describe("-v as kubectl's klog level", () => {
  it.each([["-v=6"], ["--v=6"], ["-v", "6"], ["-v"], ["--verbose"], ["--v=9"]])(
    "%s logs each API request on stderr",
    async (...flag) => {
      const result = await sim.run(["version", ...flag, "-o", "json"]);
      expect(result.code).toBe(0);
      expect(requests(result.stderr).length).toBeGreaterThan(0);
      expect(JSON.parse(result.stdout)).toHaveProperty("kubevirt");
    },
  );

  it.each([["-v=0"], ["--v=5"], ["-v", "2"]])("%s logs no request", async (...flag) => {
    const result = await sim.run(["version", ...flag]);
    expect(result.code).toBe(0);
    expect(requests(result.stderr)).toEqual([]);
  });

  it("-v=7 adds the headers with the credential redacted, -v=8 the bodies; -v=6 neither", async () => {
    const token = /token: (\S+)/.exec(readFileSync(sim.kubeconfig, "utf8"))?.[1] ?? "";
    expect(token.length).toBeGreaterThan(8);
    const seven = await sim.run(["version", "-v=7"]);
    expect(seven.code).toBe(0);
    expect(seven.stderr).toContain("  > Authorization: Bearer <redacted>\n");
    expect(seven.stderr).toMatch(/^ {2}> GET https:\/\/127\.0\.0\.1:\d+\/version$/m);
    expect(seven.stderr).toMatch(/^ {2}< 200 GET \/version$/m);
    expect(seven.stderr).toMatch(/^ {2}< content-type: application\/json$/im);
    expect(seven.stderr).not.toContain('  < {"major"');
    const eight = await sim.run(["version", "--v=8"]);
    expect(eight.stderr).toMatch(/^ {2}< \{"major":"1"/m);
    const six = await sim.run(["version", "-v=6"]);
    expect(six.stderr).not.toMatch(/^ {2}[<>] /m);
    for (const run of [seven, eight, six]) expect(run.stderr).not.toContain(token);
  });

  it("a level that is no number: exit 2", async () => {
    usage(
      await sim.run(["version", "-v=loud"]),
      'invalid value "loud" for -v: the log level is a number from 0 to 10',
    );
  });
});

describe("--FLAG=true|false", () => {
  it("--all-namespaces=true is -A, =false is without it", async () => {
    const all = await sim.run(["outdated", "-A", "-o", "name"]);
    expect(all.stdout).not.toBe("");
    expect((await sim.run(["outdated", "--all-namespaces=true", "-o", "name"])).stdout).toBe(all.stdout);
    expect((await sim.run(["outdated", "-A=true", "-o", "name"])).stdout).toBe(all.stdout);
    const one = await sim.run(["outdated", "-n", "demo", "-o", "name"]);
    expect((await sim.run(["outdated", "-n", "demo", "--all-namespaces=false", "-o", "name"])).stdout).toBe(
      one.stdout,
    );
  });

  it("--headers=false is --no-headers", async () => {
    const bare = await sim.run(["outdated", "-A", "--no-headers"]);
    expect((await sim.run(["outdated", "-A", "--headers=false"])).stdout).toBe(bare.stdout);
  });

  it("a word that is no boolean: exit 2", async () => {
    usage(
      await sim.run(["outdated", "--all-namespaces=yes"]),
      'invalid value "yes" for --all-namespaces: a boolean flag takes true or false',
    );
  });
});

describe("--dry-run=server|client|none", () => {
  it("migrate: server asks the API server (a PUT with dryRun), client sends nothing that writes; neither creates a migration", async () => {
    const server = await sim.run(["migrate", ...fedora, "--dry-run=server", "-v=6", "-o", "json"]);
    expect(server.code).toBe(0);
    expect(
      writes(server.stderr).some((line) =>
        /^PUT \/apis\/subresources\.kubevirt\.io\/v1\/namespaces\/demo\/virtualmachines\/fedora-web\/migrate /.test(
          line,
        ),
      ),
    ).toBe(true);
    const bare = await sim.run(["migrate", "--dry-run", "fedora-web", "-n", "demo", "-v", "-o", "json"]);
    expect(writes(bare.stderr)).toEqual(
      writes(server.stderr)
        .map((line) => line.replace(/ in \d+ms$/, ""))
        .map((line) => expect.stringContaining(line)),
    );
    const client = await sim.run(["migrate", ...fedora, "--dry-run=client", "-v=6"]);
    expect(client.code).toBe(0);
    expect(writes(client.stderr)).toEqual([]);
    expect(client.stdout).toMatch(
      /^dry run \(client\): the pre-flight checks allow migrating demo\/fedora-web off node-\d; nothing was sent to the API server\n$/,
    );
    expect(sim.migrations("demo", "fedora-web")).toEqual([]);
  });

  it("migrate --dry-run=none is a real migration", async () => {
    await fresh(async (s) => {
      const result = await s.run(["migrate", ...fedora, "--dry-run=none", "--no-wait", "-o", "name"]);
      expect(result.code).toBe(0);
      const [migration] = s.migrations("demo", "fedora-web");
      expect(result.stdout).toBe(`virtualmachineinstancemigration.kubevirt.io/${migration.metadata.name}\n`);
    });
  });

  it("restart and cancel: client sends nothing that writes, server sends the dry run", async () => {
    const client = await sim.run(["restart", ...cirros, "--dry-run=client", "-v=6"]);
    expect(client.code).toBe(0);
    expect(writes(client.stderr)).toEqual([]);
    expect(client.stdout).toBe(
      "dry run (client): would restart demo/cirros-test; nothing was sent to the API server\n",
    );
    const server = await sim.run(["restart", ...cirros, "--dry-run=server", "-v=6"]);
    expect(writes(server.stderr)).toEqual([
      expect.stringMatching(
        /^PUT \/apis\/subresources\.kubevirt\.io\/v1\/namespaces\/demo\/virtualmachines\/cirros-test\/restart 202 /,
      ),
    ]);
    await fresh(async (s) => {
      await s.run(["migrate", ...fedora, "--no-wait"]);
      const dry = await s.run(["cancel", ...fedora, "--dry-run=client", "-v=6", "-o", "name"]);
      expect(dry.code).toBe(0);
      expect(writes(dry.stderr)).toEqual([]);
      const [migration] = s.migrations("demo", "fedora-web");
      expect(dry.stdout).toBe(`virtualmachineinstancemigration.kubevirt.io/${migration.metadata.name}\n`);
      // The deletion's dryRun goes in its body (deleteOptions), which the log does not show: the
      // migration is still there after it.
      const serverDry = await s.run(["cancel", ...fedora, "--dry-run", "-v=6"]);
      expect(writes(serverDry.stderr)).toEqual([
        expect.stringMatching(
          /^DELETE \/apis\/kubevirt\.io\/v1\/namespaces\/demo\/virtualmachineinstancemigrations\/\S+ 202 /,
        ),
      ]);
      expect(s.migrations("demo", "fedora-web")).toHaveLength(1);
    });
  });

  it("evacuate --cancel: client changes nothing and says so", async () => {
    const result = await sim.run(["evacuate", "node-1", "--cancel", "--dry-run=client", "-v=6"]);
    expect(result.code).toBe(0);
    expect(writes(result.stderr)).toEqual([]);
    expect(result.stdout).toBe(
      "no VM is marked for evacuation from node-1 (dry run, client: nothing sent)\n",
    );
  });

  it.each([
    ["migrate", "fedora-web", "-n", "demo"],
    ["cancel", "fedora-web", "-n", "demo"],
    ["restart", "cirros-test", "-n", "demo"],
    ["evacuate", "node-1"],
  ])("%s --dry-run=maybe: exit 2 with the choices", async (...args) => {
    const result = await sim.run([...args, "--dry-run=maybe"]);
    usage(result, 'invalid --dry-run value "maybe": must be "none", "server" or "client"');
    expect(result.stderr).toContain(
      "hint: write --dry-run=server (the same as a bare --dry-run), --dry-run=client or --dry-run=none",
    );
  });

  it("help says which mode the bare flag is", async () => {
    const help = await sim.run(["migrate", "--help"]);
    expect(help.stdout).toContain("--dry-run[=MODE]");
    expect(help.stdout.replace(/\s+/g, " ")).toContain("server (a bare --dry-run):");
  });
});

describe("virtctl's spellings", () => {
  it("migrate-cancel is cancel; help shows the alias", async () => {
    const result = await sim.run(["migrate-cancel", ...fedora, "-o", "json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ vm: "fedora-web", outcome: "nothing-to-cancel" });
    const help = await sim.run(["cancel", "--help"]);
    expect(help.stdout).toContain("\nAliases:\n  cancel, migrate-cancel\n");
    expect((await sim.run(["migrate-cancel", "--help"])).stdout).toBe(help.stdout);
    // The command list names it once, and says virtctl's name.
    const list = (await sim.run(["--help"])).stdout.replace(/\s+/g, " ");
    expect(list).toContain("(virtctl's name: migrate-cancel)");
    expect(list).not.toContain("cancel|migrate-cancel");
  });

  it("--addedNodeSelector is --node-selector", async () => {
    await fresh(async (s) => {
      const result = await s.run([
        "migrate",
        ...fedora,
        "--addedNodeSelector",
        "kubernetes.io/hostname=node-3",
        "--no-wait",
      ]);
      expect(result.code).toBe(0);
      const [migration] = s.migrations("demo", "fedora-web");
      expect(migration.spec.addedNodeSelector).toEqual({ "kubernetes.io/hostname": "node-3" });
    });
    usage(
      await sim.run(["migrate", ...fedora, "--addedNodeSelector", "a=b", "--node-selector", "c=d"]),
      "--node-selector and --addedNodeSelector cannot be combined",
    );
    usage(
      await sim.run(["migrate", ...fedora, "--addedNodeSelector", "a b"]),
      'invalid --addedNodeSelector "a b"',
    );
  });

  it("restart --grace-period 0 is --force: the restart goes with grace period 0 (the sim shortens the VMI's to 1)", async () => {
    await fresh(async (s) => {
      const result = await s.run([
        "restart",
        ...cirros,
        "--grace-period",
        "0",
        "--yes",
        "--no-wait",
        "-o",
        "json",
      ]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ outcome: "requested", force: true });
      expect(s.vmi("demo", "cirros-test").spec.terminationGracePeriodSeconds).toBe(1);
    });
  });

  it("restart --grace-period 30 goes to the server, whose refusal comes before anything changes", async () => {
    const result = await sim.run(["restart", ...cirros, "--grace-period", "30", "--yes"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("For force restart, only gracePeriod=0 is supported for now");
    expect(sim.vmi("demo", "cirros-test").spec.terminationGracePeriodSeconds).not.toBe(1);
  });

  it.each([
    [["--grace-period", "-2"], '--grace-period must be -1 or a whole number of seconds from 0, not "-2"'],
    [["--grace-period", "1.5"], '--grace-period must be -1 or a whole number of seconds from 0, not "1.5"'],
    [
      ["--force", "--grace-period", "5"],
      "--force means --grace-period 0; it cannot be combined with another grace period",
    ],
  ])("restart %j: exit 2", async (flags, message) => {
    usage(await sim.run(["restart", ...cirros, "--yes", ...flags]), message);
  });
});
