// The js-yaml the bundle gives the Kubernetes client (scripts/stubs/js-yaml-over-yaml.mjs, over
// the `yaml` package): it reads what js-yaml 5's load() reads (YAML 1.2's core schema), the way
// js-yaml reads it, and refuses what js-yaml refuses with a one-line reason and its place.
import { describe, expect, it } from "vitest";
import { dump, load, loadAll } from "../../scripts/stubs/js-yaml-over-yaml.mjs";

/** The message of what `run` throws. */
function thrownBy(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error("nothing was thrown");
}

describe("load", () => {
  it("YAML 1.2's core schema: booleans, nulls and numbers as 1.2 reads them; yes, on and dates stay strings", () => {
    expect(
      load(
        "a: true\nb: ~\nc: 12\nd: 0x1f\ne: 1.5\nf: yes\ng: on\nh: 0777\ni: v1.32\nj: null\nk: 0o17\nt: 2026-12-07\n",
      ),
    ).toEqual({
      a: true,
      b: null,
      c: 12,
      d: 31,
      e: 1.5,
      f: "yes",
      g: "on",
      h: 777,
      i: "v1.32",
      j: null,
      k: 15,
      t: "2026-12-07",
    });
  });

  it("anchors and aliases, block scalars, a tag of the schema; << is an ordinary key", () => {
    expect(
      load("base: &b {x: 1}\nm:\n  <<: *b\n  y: 3\nl: |\n  x\n  y\nf: >-\n  p\n  q\ns: !!str 12\n"),
    ).toEqual({
      base: { x: 1 },
      m: { "<<": { x: 1 }, y: 3 },
      l: "x\ny\n",
      f: "p q",
      s: "12",
    });
  });

  const refused: Array<[string, string, string | RegExp]> = [
    ["an empty stream", "# nothing\n", "expected a document, but the input is empty"],
    ["two documents", "a: 1\n---\nb: 2\n", "expected a single document in the stream, but found more"],
    ["a duplicate key", "a: 1\na: 2\n", "Map keys must be unique (2:1)"],
    ["an unknown tag", "a: !foo x\n", "Unresolved tag: !foo (1:4)"],
    ["an unclosed flow mapping", "a: {b: 1\n", /^Flow map .* \(2:1\)$/],
    ["an alias with no anchor", "a: *nope\n", /^Unresolved alias.*: nope$/],
  ];
  for (const [what, text, message] of refused) {
    it(`refuses ${what}: one line, the reason and its place`, () => {
      const thrown = thrownBy(() => load(text));
      if (typeof message === "string") expect(thrown).toBe(message);
      else expect(thrown).toMatch(message);
    });
  }
});

describe("loadAll and dump", () => {
  it("loadAll reads every document; dump writes YAML load reads back", () => {
    expect(loadAll("a: 1\n---\nb: [x, y]\n")).toEqual([{ a: 1 }, { b: ["x", "y"] }]);
    const value = { kind: "Config", clusters: [{ name: "a", cluster: { server: "https://a" } }] };
    expect(load(dump(value))).toEqual(value);
  });

  it("loadAll refuses a broken document as load does", () => {
    expect(thrownBy(() => loadAll("a: 1\n---\nb: 1\nb: 2\n"))).toBe("Map keys must be unique (4:1)");
  });
});
