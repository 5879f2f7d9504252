import { describe, expect, it, vi } from "vitest";
import { UsageError } from "../../src/errors.js";
import { createIO } from "../../src/io/io.js";
import { parseOutputFormat, writeData } from "../../src/io/output.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

const data = { name: "vm-1", phase: "Running", nodes: ["a", "b"], message: "x".repeat(120) };

describe("writeData", () => {
  it("writes indented JSON to stdout", async () => {
    const b = bufferedStreams();
    const render = vi.fn();
    await writeData(createIO(b.streams, {}), "json", data, render);
    expect(b.stdout()).toBe(`${JSON.stringify(data, null, 2)}\n`);
    expect(JSON.parse(b.stdout())).toEqual(data);
    expect(render).not.toHaveBeenCalled();
    expect(b.stderr()).toBe("");
  });

  it("writes YAML to stdout without folding or anchors", async () => {
    const b = bufferedStreams();
    const shared = { a: 1 };
    await writeData(createIO(b.streams, {}), "yaml", { ...data, one: shared, two: shared }, () => {});
    expect(b.stdout()).toBe(
      [
        "name: vm-1",
        "phase: Running",
        "nodes:",
        "  - a",
        "  - b",
        `message: ${"x".repeat(120)}`,
        "one:",
        "  a: 1",
        "two:",
        "  a: 1",
        "",
      ].join("\n"),
    );
  });

  it("renders text through the callback", async () => {
    const b = bufferedStreams();
    const io = createIO(b.streams, {});
    await writeData(io, "text", data, () => io.out("vm-1 is Running"));
    expect(b.stdout()).toBe("vm-1 is Running\n");
  });
});

describe("parseOutputFormat", () => {
  it("accepts allowed formats", () => {
    expect(parseOutputFormat("json", ["text", "json", "yaml"])).toBe("json");
    expect(parseOutputFormat("YAML", ["text", "json", "yaml"])).toBe("yaml");
  });

  it("rejects an unknown value, naming it and the allowed ones", () => {
    const error = catchError(() => parseOutputFormat("xml", ["text", "json", "yaml"]));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({
      message: 'unsupported output format "xml"',
      hint: "use one of: text, json, yaml",
      exitCode: 2,
    });
  });

  it("rejects a known format the command does not allow", () => {
    const error = catchError(() => parseOutputFormat("yaml", ["text", "json"]));
    expect(error).toMatchObject({
      message: 'unsupported output format "yaml"',
      hint: "use one of: text, json",
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
