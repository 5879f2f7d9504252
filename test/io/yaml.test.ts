// -o yaml read by a YAML 1.1 parser (PyYAML) gives back exactly what -o json says: every string
// that 1.1 would retype (timestamps, yes/no/on/off, octal, base 60, .inf, =, <<) is quoted.
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { createIO } from "../../src/io/io.js";
import { writeData } from "../../src/io/output.js";
import { loadYamlWriter } from "../../src/io/yaml.js";
import { bufferedStreams } from "../helpers/buffered-io.js";
import { pyyamlLoad, pyyamlLoadAll } from "../helpers/pyyaml.js";

/** Strings that YAML 1.1 (or 1.2) reads as another type when written plain. */
const retyped = [
  "2026-12-07T10:00:00Z",
  "2026-12-07T10:00:00.123456Z",
  "2026-12-07",
  "2026-12-7 1:00:00",
  "2026-12-07 10:00:00 +01:00",
  "2026-12-07t10:00:00-05",
  ...["yes", "no", "on", "off", "y", "n", "true", "false"].flatMap((w) => [
    w,
    w.toUpperCase(),
    w[0]?.toUpperCase() + w.slice(1),
  ]),
  "yEs",
  "oFF",
  "~",
  "null",
  "Null",
  "NULL",
  "",
  "0",
  "-0",
  "+12",
  "0777",
  "0o17",
  "09",
  "0_",
  "1_000",
  "-1_000",
  "1:30",
  "-1:30:00",
  "190:20:30.15",
  ".inf",
  "-.Inf",
  "+.INF",
  ".nan",
  ".NaN",
  "1e3",
  "1E3",
  "1e+3",
  "1.5e-3",
  "6.8523015e+5",
  "685.230_15e+03",
  "1.",
  ".5",
  "._5",
  "1_000.5",
  "0x1f",
  "-0x_1f",
  "0b1",
  "+0b1010_0111",
  "=",
  "<<",
];

/** Strings that stay plain, and a few that need quoting for other reasons (the library's part). */
const plainOrOther = [
  "Running",
  "node-1",
  "kubevirt-migrate-vm-x7k2p",
  "quay.io/kubevirt/virt-launcher:v1.4.0",
  "sha256:abc",
  "12:60",
  "0X1F",
  "v1.5",
  "1.2.3.4/24",
  "10Gi",
  "yess",
  "nope",
  "a: b",
  "- item",
  "#comment",
  "key #not",
  "@at",
  "%percent",
  "`tick",
  "!tag",
  "&anchor",
  "*alias",
  "? q",
  "'single'",
  '"double"',
  " leading",
  "trailing ",
  "two\nlines",
  "trailing newline\n",
  "tab\there",
  "\u001b[31mred\u001b[0m",
  "nel\u0085line",
  "ls\u2028ps\u2029",
  "bom\ufeff",
  "é ü 日本 🚀",
  "---",
  "...",
  "a ---",
  "{not: flow}",
  "[not, flow]",
  "null:",
  "x".repeat(300),
];

const data = {
  values: Object.fromEntries([...retyped, ...plainOrOther].map((s, i) => [`k${i}`, s])),
  list: [...retyped, ...plainOrOther],
  // As keys too: a key YAML 1.1 retypes becomes a boolean or a number in PyYAML.
  keys: Object.fromEntries(retyped.filter((s) => s !== "").map((s) => [s, s])),
  nested: { timeline: [{ phase: "Running", at: "2026-12-07T10:00:00Z" }], empty: [], none: null },
  numbers: { count: 3, seconds: 12.5, zero: 0, negative: -2, big: 8589934592 },
  flags: { yes: true, no: false },
};

async function yamlOf(value: unknown): Promise<string> {
  const b = bufferedStreams();
  await writeData(createIO(b.streams, {}), "yaml", value, () => {});
  return b.stdout();
}

async function jsonOf(value: unknown): Promise<unknown> {
  const b = bufferedStreams();
  await writeData(createIO(b.streams, {}), "json", value, () => {});
  return JSON.parse(b.stdout());
}

describe("-o yaml under a YAML 1.1 parser (PyYAML)", () => {
  it("reads back exactly what -o json says, for strings YAML 1.1 would retype, as values, list items and keys", async () => {
    const yaml = await yamlOf(data);
    expect(pyyamlLoad(yaml)).toEqual(await jsonOf(data));
    expect(YAML.parse(yaml)).toEqual(await jsonOf(data));
  });

  it("quotes each retyped string, and only those among ordinary words", async () => {
    const write = await loadYamlWriter();
    for (const s of retyped) {
      expect(write({ v: s }), s).toMatch(/^v: "/);
    }
    expect(write({ phase: "Running", node: "node-1", v: "12:60" })).toBe(
      "phase: Running\nnode: node-1\nv: 12:60\n",
    );
  });

  it("random strings of YAML's special characters, short and long, read back as the same strings", async () => {
    // A seeded generator: the same strings every run. Words YAML 1.1 retypes, YAML's indicators,
    // line breaks and spaces in every place, tabs, YAML 1.1's own line breaks, a byte-order mark.
    let seed = 19;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const alphabet = [
      ..."0123456789:-+._eEoxbTtZ ~yYnN#'\"!&*?|>%@`,[]{}\n\t\r\\=",
      ..."\u0000\u001b\u007f\u0085\u00a0\u2028\u2029\ufeff\uffffé🚀",
      ..."\n\n   ",
    ];
    const words = ["yes", "no", "on", "off", "null", ".inf", ".nan", "2026-12-07", "0x", "0b", "<<", "\n \n"];
    const strings = Array.from({ length: 3000 }, (_, n) => {
      const length = 1 + (next() % (n % 3 === 0 ? 120 : 10));
      let s = next() % 4 === 0 ? (words[next() % words.length] as string) : "";
      for (let i = 0; i < length; i++) s += alphabet[next() % alphabet.length];
      return s;
    });
    const value = { list: strings, keys: Object.fromEntries(strings.map((s) => [s, s])) };
    const yaml = await yamlOf(value);
    const json = await jsonOf(value);
    expect(pyyamlLoad(yaml)).toEqual(json);
    // And YAML 1.2 (the library's own parser) reads the same.
    expect(YAML.parse(yaml)).toEqual(json);
  });

  it("holds the JSON document: no undefined fields, NaN as null, no &anchors for a shared object", async () => {
    const shared = { a: 1 };
    const value = { gone: undefined, nan: Number.NaN, one: shared, two: shared, at: new Date(0) };
    const yaml = await yamlOf(value);
    expect(yaml).toBe('nan: null\none:\n  a: 1\ntwo:\n  a: 1\nat: "1970-01-01T00:00:00.000Z"\n');
    expect(pyyamlLoad(yaml)).toEqual(await jsonOf(value));
  });

  it("several documents (watch -o yaml) read back one by one", async () => {
    const write = await loadYamlWriter();
    const records = [
      { phase: "Pending", startedAt: "2026-12-07T10:00:00Z", endedAt: null },
      { phase: "Succeeded", startedAt: "2026-12-07T10:00:00Z", endedAt: "2026-12-07T10:01:30Z" },
    ];
    const text = records.map((r) => `---\n${write(r)}`).join("");
    expect(pyyamlLoadAll(text)).toEqual(records);
  });
});
