// The exit codes: one table in src/errors.ts, the same table in the README, and each error
// class carrying its code.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  ConnectionError,
  ExitCode,
  exitCodeOf,
  exitCodeTable,
  InterruptedError,
  NotFoundError,
  OperationFailedError,
  PreflightRefusedError,
  ProblemsFoundError,
  TimeoutError,
  UnauthorizedError,
  UsageError,
} from "../../src/errors.js";

describe("exit codes", () => {
  it("the README's table is the table in src/errors.ts", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## Exit codes"));
    const rows = [...section.matchAll(/^\|\s*(\d+)\s*\|\s*(.+?)\s*\|$/gm)].map(([, code, meaning]) => ({
      code: Number(code),
      meaning: meaning?.replaceAll("`", ""),
    }));
    expect(rows).toEqual(exitCodeTable.map(({ code, meaning }) => ({ code, meaning })));
  });

  it("each error class carries its code; anything else is 1", () => {
    expect(exitCodeOf(new UsageError("x"))).toBe(ExitCode.usage);
    expect(exitCodeOf(new ConfigError("x"))).toBe(ExitCode.unexpected);
    expect(exitCodeOf(new ConnectionError("x"))).toBe(ExitCode.unexpected);
    expect(exitCodeOf(new OperationFailedError("x"))).toBe(3);
    expect(exitCodeOf(new UnauthorizedError("x"))).toBe(4);
    expect(exitCodeOf(new NotFoundError("x"))).toBe(5);
    expect(exitCodeOf(new TimeoutError("x"))).toBe(6);
    expect(exitCodeOf(new ProblemsFoundError("x"))).toBe(7);
    expect(exitCodeOf(new PreflightRefusedError("x"))).toBe(8);
    expect(exitCodeOf(new InterruptedError("x"))).toBe(130);
    expect(exitCodeOf(new Error("boom"))).toBe(1);
    expect(exitCodeOf("a string")).toBe(1);
  });
});
