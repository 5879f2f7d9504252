// The summary table after `kvmig outdated --migrate`: on a terminal every line is cut to its
// width, as the listing above it is, and never wraps; -o wide prints it whole. In process on a
// terminal against a simulated cluster.
import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { NonInteractivePrompter } from "../../src/io/prompter-impl.js";
import { type SimCluster, startSimCluster } from "../../src/sim/cluster.js";
import { onTerminal } from "../helpers/terminal-run.js";

let cluster: SimCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** The summary table: from its header line to the blank line after it. */
function summary(stdout: string): string[] {
  const lines = stripVTControlCharacters(stdout).split("\n");
  const start = lines.findIndex((line) => /^VM +ACTION +RESULT +NODES/.test(line));
  expect(start).toBeGreaterThan(-1);
  const end = lines.indexOf("", start);
  return lines.slice(start, end);
}

describe("outdated --migrate: the summary table on a terminal", () => {
  it("each line is cut to the terminal's width (50 columns), with an ellipsis where it was longer", async () => {
    cluster = await startSimCluster({ seed: 7, scenario: "upgrade", speed: 4 });
    const r = await onTerminal(
      cluster,
      ["outdated", "-n", "team-b", "--migrate", "--yes"],
      new NonInteractivePrompter(),
      50,
    );
    expect(r.code).toBe(0);
    const table = summary(r.stdout);
    expect(table.length).toBeGreaterThanOrEqual(2);
    for (const line of table) expect(line.length).toBeLessThan(50);
    expect(table.some((line) => line.endsWith("…"))).toBe(true);
    expect(table[1]).toMatch(/^worker-2 +migrate +succeeded /);
  }, 60_000);

  it("-o wide prints it whole", async () => {
    cluster = await startSimCluster({ seed: 7, scenario: "upgrade", speed: 4 });
    const r = await onTerminal(
      cluster,
      ["outdated", "-n", "team-b", "--migrate", "--yes", "-o", "wide"],
      new NonInteractivePrompter(),
      50,
    );
    expect(r.code).toBe(0);
    const table = summary(r.stdout);
    expect(table.some((line) => line.length >= 50)).toBe(true);
    expect(table.every((line) => !line.endsWith("…"))).toBe(true);
  }, 60_000);
});
