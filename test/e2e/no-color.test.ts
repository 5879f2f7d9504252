// `NO_COLOR=1` and `--no-color` output contain no escape sequences; JSON output never does.
// Colours only appear on a terminal, so each command runs on a pseudo-terminal (util-linux
// script(1)) against a fresh simulated cluster, with exactly the environment the case sets (no
// NO_COLOR or FORCE_COLOR from the test runner). The baseline shows colours where the command
// colours, so the checks without them can fail.
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/kubeconfig.js";
import { hasScript, type PtyResult, runInPty, shQuote } from "../helpers/terminals.js";
import { distEntry, ensureBuilt, nodeDir, repoRoot } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

beforeAll(ensureBuilt, 120_000);

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON.
type Any = any;

const ESC = "\u001b";
/** SGR: Select Graphic Rendition, ESC [ params m: colours, bold, dim. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape byte is what is looked for.
const sgr = /\u001b\[[0-9;:]*m/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape byte is what is looked for.
const allSgr = /\u001b\[[0-9;:]*m/g;

const sims: SimCli[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

/** The terminal's environment: no NO_COLOR, no FORCE_COLOR, only what the case adds. */
function terminalEnv(sim: SimCli | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: [nodeDir, "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    HOME: sim?.env.HOME ?? tempDir(),
    ...(sim ? { KUBECONFIG: sim.kubeconfig } : {}),
    TERM: "xterm-256color",
    ...extra,
  };
}

async function onTerminal(
  sim: SimCli | undefined,
  args: string[],
  extraEnv: Record<string, string> = {},
  redirect = "",
): Promise<PtyResult> {
  const line = [process.execPath, distEntry, ...args].map(shQuote).join(" ");
  const result = await runInPty(`${line}${redirect}`, {
    env: terminalEnv(sim, extraEnv),
    cwd: repoRoot,
    killAfterMs: 45_000,
  });
  expect(result.killed).toBe(false);
  return result;
}

type Scenario = "default" | "upgrade" | "version-skew";

async function freshSim(scenario: Scenario | undefined, speed = 1): Promise<SimCli | undefined> {
  if (scenario === undefined) return undefined;
  const sim = await simCli({ scenario, speed });
  sims.push(sim);
  return sim;
}

interface TextCase {
  title: string;
  /** No scenario: the command does not reach a cluster. */
  scenario?: Scenario;
  args: string[];
  code: number;
  /** Text the screen shows either way (so that an empty screen cannot pass). */
  shows: RegExp;
  /** The command colours on a terminal (the baseline must show SGR sequences). */
  colours: boolean;
  /**
   * A spinner redraws in place with cursor-control sequences (hide/show the cursor, go to column
   * 1, clear the line, synchronized output), which are not colour: only SGR is ruled out.
   */
  spinner?: boolean;
  speed?: number;
}

const textCases: TextCase[] = [
  {
    title: "version",
    scenario: "default",
    args: ["version"],
    code: 0,
    shows: /KubeVirt: +v1\.9\.0/,
    colours: true,
  },
  {
    title: "outdated -A on upgrade",
    scenario: "upgrade",
    args: ["outdated", "-A"],
    code: 0,
    shows: /8 outdated VMIs in all namespaces: 5 to migrate, 3 to restart \(downtime\)/,
    colours: true,
  },
  {
    title: "diagnose of a failed VM on version-skew",
    scenario: "version-skew",
    args: ["diagnose", "orders-db", "-n", "prod"],
    code: 7,
    shows: /ERROR Migration failed between different virt-launcher versions/,
    colours: true,
  },
  {
    title: "migrate cirros-test",
    scenario: "default",
    speed: 2,
    args: ["migrate", "cirros-test", "-n", "demo"],
    code: 0,
    shows: /Succeeded {2}demo\/cirros-test moved node-3 → node-\d/,
    colours: true,
    spinner: true,
  },
  {
    title: "help exit-codes",
    args: ["help", "exit-codes"],
    code: 0,
    shows: /130 +interrupted/,
    colours: true,
  },
  // commander's help has no colours of its own: the baseline only shows it is plain text.
  {
    title: "--help",
    args: ["--help"],
    code: 0,
    shows: /Usage: kvmig \[options\] \[command\]/,
    colours: false,
  },
  {
    title: "a usage error (migrate --bogus)",
    args: ["migrate", "--bogus"],
    code: 2,
    shows: /error: unknown option '--bogus'\r?\nhint: see kvmig migrate --help/,
    colours: true,
  },
];

/** Each escape byte in `text` with a little of what follows it (at most 5): [] when there is none. */
function escapes(text: string): string[] {
  const found: string[] = [];
  for (let i = text.indexOf(ESC); i !== -1 && found.length < 5; i = text.indexOf(ESC, i + 1))
    found.push(JSON.stringify(text.slice(i, i + 12)));
  return found;
}

/** The screen without its escape sequences: what a person reads. */
function plain(screen: string): string {
  return screen.replace(allSgr, "");
}

describe.skipIf(!hasScript()).concurrent("on a terminal", () => {
  for (const c of textCases) {
    it(`${c.title}: the baseline ${c.colours ? "has colours" : "is plain"}`, async () => {
      const sim = await freshSim(c.scenario, c.speed);
      const result = await onTerminal(sim, c.args);
      expect(result.code).toBe(c.code);
      expect(plain(result.screen)).toMatch(c.shows);
      if (c.colours) expect(result.screen).toMatch(sgr);
      else expect(escapes(result.screen)).toEqual([]);
    }, 60_000);

    for (const variant of ["NO_COLOR=1", "--no-color"] as const) {
      const rule = c.spinner
        ? "no SGR sequence (the spinner's cursor control is allowed)"
        : "no escape at all";
      it(`${c.title} with ${variant}: ${rule}`, async () => {
        const sim = await freshSim(c.scenario, c.speed);
        const result =
          variant === "NO_COLOR=1"
            ? await onTerminal(sim, c.args, { NO_COLOR: "1" })
            : await onTerminal(sim, [...c.args, "--no-color"]);
        expect(result.code).toBe(c.code);
        expect(result.screen).toMatch(c.shows);
        expect(result.screen.match(allSgr) ?? []).toEqual([]);
        if (!c.spinner) expect(escapes(result.screen)).toEqual([]);
      }, 60_000);
    }
  }
});

// TERM=dumb takes no escape sequence at all: kvmig treats it like a pipe (plain progress lines,
// no spinner, no redraws, no colour, no prompt), and this with colours otherwise allowed.
describe.skipIf(!hasScript()).concurrent("TERM=dumb", () => {
  for (const c of textCases) {
    it(`${c.title}: no escape at all, the same text`, async () => {
      const sim = await freshSim(c.scenario, c.speed);
      const result = await onTerminal(sim, c.args, { TERM: "dumb" });
      expect(result.code).toBe(c.code);
      expect(result.screen).toMatch(c.shows);
      expect(escapes(result.screen)).toEqual([]);
    }, 60_000);
  }

  it("watch -n demo --exit-on-done while a migration runs: change lines, no redrawn table", async () => {
    const sim = await freshSim("default", 4);
    if (!sim) throw new Error("no cluster");
    const started = await sim.run(["migrate", "fedora-web", "-n", "demo", "--no-wait"]);
    expect(started.code).toBe(0);
    const result = await onTerminal(sim, ["watch", "-n", "demo", "--exit-on-done"], { TERM: "dumb" });
    expect(result.code).toBe(0);
    // The TRIGGER column (issue 22) sits between the phase and the route.
    expect(result.screen).toMatch(/fedora-web\b.* Succeeded +user +node-1 → node-\d/);
    expect(escapes(result.screen)).toEqual([]);
  }, 60_000);

  it("migrate with no VM: no picker (it would draw), the missing argument is a usage error", async () => {
    const result = await onTerminal(undefined, ["migrate", "-n", "demo"], { TERM: "dumb" });
    expect(result.code).toBe(2);
    expect(result.screen).toMatch(/^error: missing required argument VM \(the VM to migrate\)\r?$/m);
    expect(escapes(result.screen)).toEqual([]);
  }, 60_000);
});

interface JsonCase {
  title: string;
  scenario?: Scenario;
  speed?: number;
  args: string[];
  code: number;
  /** Runs before the command (on the same cluster). */
  setup?: (sim: SimCli) => Promise<void>;
  /** NDJSON: one document a line. */
  ndjson?: boolean;
  check: (docs: Any[]) => void;
}

const jsonCases: JsonCase[] = [
  {
    title: "version -o json",
    scenario: "default",
    args: ["version", "-o", "json"],
    code: 0,
    check: ([doc]) => expect(doc.kubevirt.version).toBe("v1.9.0"),
  },
  {
    title: "outdated -A -o json",
    scenario: "upgrade",
    args: ["outdated", "-A", "-o", "json"],
    code: 0,
    check: ([doc]) => expect(doc.items).toHaveLength(8),
  },
  {
    title: "diagnose orders-db -o json on version-skew",
    scenario: "version-skew",
    args: ["diagnose", "orders-db", "-n", "prod", "-o", "json"],
    code: 7,
    check: ([doc]) => expect(doc.findings[0].id).toBe("version-skew"),
  },
  {
    title: "migrate cirros-test -o json",
    scenario: "default",
    speed: 2,
    args: ["migrate", "cirros-test", "-n", "demo", "-o", "json"],
    code: 0,
    check: ([doc]) => expect(doc).toMatchObject({ vm: "cirros-test", phase: "Succeeded" }),
  },
  {
    title: "watch -A -o json --exit-on-done while a migration runs",
    scenario: "default",
    speed: 4,
    args: ["watch", "-A", "-o", "json", "--exit-on-done"],
    code: 0,
    setup: async (sim) => {
      const started = await sim.run(["migrate", "fedora-web", "-n", "demo", "--no-wait"]);
      expect(started.code).toBe(0);
    },
    ndjson: true,
    check: (docs) => {
      expect(docs.length).toBeGreaterThanOrEqual(2);
      for (const doc of docs) expect(doc).toMatchObject({ vm: "fedora-web", namespace: "demo" });
      expect(docs.at(-1).phase).toBe("Succeeded");
    },
  },
  {
    title: "help failure-modes -o json",
    args: ["help", "failure-modes", "-o", "json"],
    code: 0,
    check: ([doc]) => expect(doc.map((f: Any) => f.id)).toContain("version-skew"),
  },
];

describe.skipIf(!hasScript()).concurrent("JSON on a terminal, with colours allowed", () => {
  for (const c of jsonCases) {
    it(`${c.title}: stdout has no escape and parses`, async () => {
      const sim = await freshSim(c.scenario, c.speed);
      if (sim && c.setup) await c.setup(sim);
      // stderr to a file inside the terminal's shell line: what the terminal shows is stdout.
      const errFile = join(mkdtempSync(join(tmpdir(), "kvmig-no-color-")), "stderr");
      const result = await onTerminal(sim, c.args, {}, ` 2>${shQuote(errFile)}`);
      const stderr = await readFile(errFile, "utf8");
      expect(result.code, stderr).toBe(c.code);
      expect(escapes(result.screen)).toEqual([]);
      // The terminal turns each \n into \r\n.
      const stdout = result.screen.replace(/\r/g, "");
      const docs = c.ndjson
        ? stdout
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l))
        : [JSON.parse(stdout)];
      c.check(docs);
    }, 60_000);
  }
});
