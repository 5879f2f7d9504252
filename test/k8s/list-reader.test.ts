import { describe, expect, it } from "vitest";
import { ListReader, ListSyntaxError } from "../../src/k8s/list-reader.js";

/** Reads `text` cut into chunks of the given sizes (cycled); returns the items and the rest. */
function read(text: string, sizes: number[] = [text.length]) {
  const bytes = Buffer.from(text, "utf8");
  const reader = new ListReader<unknown>();
  const items: unknown[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length] as number);
    items.push(...reader.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return { items, meta: reader.end() };
}

const awkward = {
  kind: "VirtualMachineInstanceList",
  apiVersion: "kubevirt.io/v1",
  metadata: { resourceVersion: "42", continue: "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==" },
  items: [
    { metadata: { name: "a", namespace: "ns" }, spec: { list: [1, [2, { x: "]}" }]], "{": "[" } },
    { metadata: { name: 'quo"te\\', labels: { items: "not the items" } }, note: "tab\t, \u00e9, \u{1F600}" },
    {},
    { metadata: { name: "c" }, nested: { items: [{ deep: true }] } },
  ],
};

describe("ListReader", () => {
  it("gives each item as JSON.parse would, and the rest without them, however the bytes are cut", () => {
    const text = JSON.stringify(awkward, null, 1);
    const expected = { items: awkward.items, meta: { ...awkward, items: [] } };
    expect(read(text)).toEqual(expected);
    for (const sizes of [[1], [2], [3], [7], [64], [1, 5, 2, 13], [100, 1]]) {
      expect(read(text, sizes)).toEqual(expected);
    }
    // Compact, and with the metadata after the items.
    const reordered = {
      items: awkward.items,
      kind: "VirtualMachineInstanceList",
      metadata: { continue: "" },
    };
    expect(read(JSON.stringify(reordered), [3])).toEqual({
      items: awkward.items,
      meta: { ...reordered, items: [] },
    });
  });

  it("agrees with JSON.parse on strings full of escapes, cut anywhere", () => {
    // A fixed pseudo-random sequence: the same cases on every run.
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    const alphabet = ['"', "\\", "{", "}", "[", "]", ":", ",", "a", "é", "\n", "\u0000"];
    const text = (length: number) =>
      Array.from({ length }, () => alphabet[random(alphabet.length)] as string).join("");
    for (let round = 0; round < 50; round++) {
      const items = Array.from({ length: random(5) }, () => ({
        metadata: { name: text(random(12)) },
        [text(3)]: [text(random(30)), { [text(2)]: text(random(8)) }],
      }));
      const list = { kind: text(4), metadata: { continue: text(6) }, items };
      const sizes = Array.from({ length: 4 }, () => 1 + random(9));
      expect(read(JSON.stringify(list), sizes)).toEqual({ items, meta: { ...list, items: [] } });
    }
  });

  it("hands on items as soon as they are complete", () => {
    const reader = new ListReader<{ n: number }>();
    const text = Buffer.from('{"metadata":{},"items":[{"n":1},{"n":2},{"n":3}]}');
    const cut = text.indexOf('{"n":2}') + 3;
    expect(reader.push(text.subarray(0, cut))).toEqual([{ n: 1 }]);
    expect(reader.push(text.subarray(cut))).toEqual([{ n: 2 }, { n: 3 }]);
    expect(reader.end()).toEqual({ metadata: {}, items: [] });
  });

  it("reads a list without items, or with an empty items array", () => {
    expect(read('{"kind":"List","metadata":{"resourceVersion":"1"}}')).toEqual({
      items: [],
      meta: { kind: "List", metadata: { resourceVersion: "1" } },
    });
    expect(read('{"items":[],"metadata":{}}', [1])).toEqual({ items: [], meta: { items: [], metadata: {} } });
    expect(read('{"items":null}')).toEqual({ items: [], meta: { items: null } });
  });

  it("fails on what is not one whole JSON object", () => {
    expect(() => read('{"items":[{"a":1}')).toThrow(ListSyntaxError);
    expect(() => read('{"items":[{"a":"x}]}')).toThrow(ListSyntaxError);
    expect(() => read("[1,2]")).toThrow(ListSyntaxError);
    expect(() => read("")).toThrow(ListSyntaxError);
    expect(() => read('{"items":[{"a":1}]}}')).toThrow(ListSyntaxError);
    expect(() => read("<html></html>")).toThrow();
  });
});
