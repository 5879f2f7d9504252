import { describe, expect, it, vi } from "vitest";
import { UsageError } from "../../src/errors.js";
import { createIO } from "../../src/io/io.js";
import {
  objectName,
  outputModeOf,
  parseOutputFlag,
  parseOutputFormat,
  printsJson,
  useOutputFlag,
  writeData,
  writeDocument,
} from "../../src/io/output.js";
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

describe("-o name and -o jsonpath (parseOutputFlag, useOutputFlag, writeData)", () => {
  const document = {
    items: [
      { vm: "db-1", node: "node-1" },
      { vm: "web", node: "node-2" },
    ],
    note: "<&>",
  };
  const names = (d: typeof document) => d.items.map((item) => objectName("vm", item.vm));

  async function printed(flag: string, data: typeof document = document, tty = false) {
    const b = bufferedStreams({ stdoutTTY: tty });
    const io = createIO(b.streams, {});
    const parsed = parseOutputFlag(flag);
    io.setOutputMode(outputModeOf(parsed.format));
    await useOutputFlag(io, parsed);
    await writeData(io, io.mode, data, () => io.out("text"), names);
    return b.stdout();
  }

  it.each([
    ["text", { format: "text" }],
    ["json", { format: "json" }],
    ["yaml", { format: "yaml" }],
    ["wide", { format: "wide" }],
    ["name", { format: "name" }],
    ["jsonpath={.a}", { format: "jsonpath", template: "{.a}", asJson: false }],
    ["jsonpath=a=b", { format: "jsonpath", template: "a=b", asJson: false }],
    ["jsonpath-as-json={.a}", { format: "jsonpath", template: "{.a}", asJson: true }],
  ])("parseOutputFlag(%j)", (value, expected) => {
    expect(parseOutputFlag(value)).toEqual(expected);
  });

  it.each([
    ["xml", 'unable to match a printer suitable for the output format "xml"'],
    ["json=x", 'unable to match a printer suitable for the output format "json=x"'],
    ["jsonpath", "-o jsonpath needs a template: -o jsonpath=TEMPLATE"],
    ["jsonpath-as-json=", "-o jsonpath-as-json needs a template: -o jsonpath-as-json=TEMPLATE"],
  ])("parseOutputFlag(%j) is a usage error", (value, message) => {
    const error = catchError(() => parseOutputFlag(value));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ message, exitCode: 2 });
  });

  it("the IO mode of each format: name and jsonpath run as json", () => {
    expect(
      ["text", "wide", "json", "yaml", "name", "jsonpath"].map((f) => outputModeOf(f as "text")),
    ).toEqual(["text", "text", "json", "yaml", "json", "json"]);
  });

  it("-o name prints the names the command gives, one per line, kubectl's kind/name", async () => {
    expect(await printed("name")).toBe("virtualmachine.kubevirt.io/db-1\nvirtualmachine.kubevirt.io/web\n");
    expect(objectName("vmim", "m-1")).toBe("virtualmachineinstancemigration.kubevirt.io/m-1");
    expect(objectName("vmi", "a")).toBe("virtualmachineinstance.kubevirt.io/a");
    expect(objectName("node", "node-1")).toBe("node/node-1");
    expect(objectName("vm", null)).toBeUndefined();
    expect(await printed("name", { ...document, items: [] })).toBe("");
  });

  it("-o jsonpath prints the template's text raw, as kubectl does, on the data -o json has", async () => {
    expect(await printed('jsonpath={range .items[*]}{.vm}@{.node}{"\\n"}{end}')).toBe(
      "db-1@node-1\nweb@node-2\n",
    );
    expect(await printed("jsonpath={.note}")).toBe("<&>");
    expect(await printed("jsonpath-as-json={.items[*].vm}")).toBe('[\n    "db-1",\n    "web"\n]\n');
  });

  it("on a terminal, a control character from the data is shown, not sent", async () => {
    const data = { ...document, note: "a\u001b[2Jb" };
    expect(await printed("jsonpath={.note}", data, true)).not.toContain("\u001b");
    expect(await printed("jsonpath={.note}", data, false)).toBe("a\u001b[2Jb");
  });

  it("a template that does not parse is a usage error when the flags are applied", async () => {
    const io = createIO(bufferedStreams().streams, {});
    const error = await useOutputFlag(io, parseOutputFlag("jsonpath={.a")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ message: "error parsing jsonpath {.a, unclosed action", exitCode: 2 });
  });

  it("a template that fails on the data is a usage error naming it; with allowMissingKeys false a missing key too", async () => {
    const b = bufferedStreams();
    const io = createIO(b.streams, {});
    io.setOutputMode("json");
    await useOutputFlag(io, parseOutputFlag("jsonpath={.items[5]}"));
    const error = await writeData(io, "json", document, () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: 'error executing jsonpath "{.items[5]}": array index out of bounds: index 5, length 2',
      exitCode: 2,
    });
    await useOutputFlag(io, parseOutputFlag("jsonpath={.nope}"), { allowMissingKeys: false });
    const strict = await writeData(io, "json", document, () => {}).catch((e: unknown) => e);
    expect(strict).toMatchObject({ message: 'error executing jsonpath "{.nope}": nope is not found' });
    expect(b.stdout()).toBe("");
  });

  it("-o name where the data names nothing is a usage error", async () => {
    const io = createIO(bufferedStreams().streams, {});
    io.setOutputMode("json");
    await useOutputFlag(io, parseOutputFlag("name"));
    expect(printsJson(io)).toBe(false);
    const error = await writeData(io, "json", document, () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "-o name is not supported here: this output names no objects" });
  });

  it("back to JSON: writeDocument prints indented JSON, or one compact line for NDJSON", async () => {
    const b = bufferedStreams();
    const io = createIO(b.streams, {});
    await useOutputFlag(io, parseOutputFlag("json"));
    expect(printsJson(io)).toBe(true);
    writeDocument(io, { a: 1 });
    writeDocument(io, { a: 1 }, undefined, true);
    expect(b.stdout()).toBe('{\n  "a": 1\n}\n{"a":1}\n');
  });
});
