// Reading a manifest file one object at a time (issue 19, item 10): documents cut at `---` and
// `...`, a list's items cut by their indent (kubectl's at column 0, or indented; JSON printed one
// value a line), each parsed on its own under a size limit per object; the lines read with one
// buffer, whatever their length. The limits are lowered so that KiB stand in for MiB.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ManifestPiece, ManifestSplitter } from "../../src/diagnose/manifest-split.js";
import { type LooseObject, type ObjectFilter, readManifest } from "../../src/diagnose/offline-manifests.js";
import { tempDir } from "../helpers/kubeconfig.js";

/** The pieces of a text, as its lines come in. */
function split(text: string, maxBytes = 1024 * 1024): ManifestPiece[] {
  const pieces: ManifestPiece[] = [];
  const splitter = new ManifestSplitter(maxBytes, (piece) => pieces.push(piece));
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) splitter.push(line, Buffer.byteLength(line) + 1);
  splitter.end();
  return pieces;
}

const summary = (pieces: ManifestPiece[]) =>
  pieces.map(({ role, line, kind, listKind }) => ({ role, line, kind, listKind }));

/** A pod of about `bytes` bytes (its padding in an annotation). */
function pod(name: string, bytes = 300, labels: Record<string, string> = {}): LooseObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "demo",
      labels,
      annotations: { note: "x".repeat(Math.max(0, bytes - 200)) },
    },
    spec: { containers: [{ name: "main", image: "registry.example.com/app:1" }] },
  };
}

const kubectlList = (items: object[], indentSeq: boolean) =>
  stringify({ apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } }, { indentSeq });

describe("ManifestSplitter: documents and list items", () => {
  it("cuts kubectl's List (items at column 0) into its items and the rest, each with its kind", () => {
    const text = kubectlList([pod("a"), pod("b")], false);
    expect(text).toContain("items:\n- apiVersion: v1\n  kind: Pod\n");
    const pieces = split(text);
    expect(summary(pieces)).toEqual([
      { role: "item", line: 3, kind: "Pod", listKind: undefined },
      { role: "item", line: 15, kind: "Pod", listKind: undefined },
      { role: "rest", line: 1, kind: undefined, listKind: undefined },
    ]);
    expect(pieces[0]?.text).toMatch(/^- apiVersion: v1\n {2}kind: Pod\n {2}metadata:\n {4}name: a\n/);
    expect(pieces[2]?.text).toBe('apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""');
  });

  it("cuts a List whose items are indented the same way", () => {
    const text = kubectlList([pod("a"), pod("b")], true);
    expect(text).toContain("items:\n  - apiVersion: v1\n    kind: Pod\n");
    const pieces = split(text);
    expect(summary(pieces)).toEqual([
      { role: "item", line: 3, kind: "Pod", listKind: undefined },
      { role: "item", line: 15, kind: "Pod", listKind: undefined },
      { role: "rest", line: 1, kind: undefined, listKind: undefined },
    ]);
    expect(pieces[1]?.text?.split("\n")[0]).toBe("  - apiVersion: v1");
  });

  it("knows a typed list's kind when it comes before the items", () => {
    const text =
      "kind: PodList\napiVersion: v1\nitems:\n- metadata:\n    name: a\n- metadata:\n    name: b\n";
    expect(summary(split(text))).toEqual([
      { role: "item", line: 4, kind: undefined, listKind: "PodList" },
      { role: "item", line: 6, kind: undefined, listKind: "PodList" },
      { role: "rest", line: 1, kind: undefined, listKind: undefined },
    ]);
  });

  it("cuts documents at `---` and `...`, keeps directives with theirs, and drops empty ones", () => {
    const text = [
      "# saved by hand",
      "---",
      "kind: Event",
      "metadata: {name: e1}",
      "---",
      "---",
      "kind: Event",
      "metadata:",
      "  name: e2",
      "...",
      "%YAML 1.2",
      "---",
      "kind: Node",
      "metadata:",
      "  name: n1",
      "",
    ].join("\n");
    const pieces = split(text);
    expect(summary(pieces)).toEqual([
      { role: "document", line: 3, kind: "Event", listKind: undefined },
      { role: "document", line: 7, kind: "Event", listKind: undefined },
      { role: "document", line: 11, kind: "Node", listKind: undefined },
    ]);
    expect(pieces[2]?.text).toBe("%YAML 1.2\n---\nkind: Node\nmetadata:\n  name: n1");
  });

  it("cuts JSON printed one value a line (kubectl -o json) into its items, keeping the rest valid", () => {
    const text = JSON.stringify({ apiVersion: "v1", items: [pod("a"), pod("b")], kind: "List" }, null, 4);
    const pieces = split(text);
    expect(summary(pieces)).toEqual([
      { role: "item", line: 4, kind: "Pod", listKind: undefined },
      { role: "item", line: 24, kind: "Pod", listKind: undefined },
      { role: "rest", line: 1, kind: undefined, listKind: undefined },
    ]);
    expect(JSON.parse(pieces[0]?.text?.replace(/,$/, "") ?? "")).toEqual(pod("a"));
    expect(JSON.parse(pieces[2]?.text ?? "")).toEqual({ apiVersion: "v1", items: [], kind: "List" });
  });

  it("leaves whole what is not a list's items: an object with an `items` key, one line of JSON", () => {
    const object = "kind: Widget\nmetadata:\n  name: w\nitems:\n- a\n- b\n";
    expect(summary(split(object))).toEqual([
      { role: "document", line: 1, kind: "Widget", listKind: undefined },
    ]);
    expect(split(object)[0]?.text).toBe(object.trimEnd());
    const oneLine = JSON.stringify({ kind: "List", items: [pod("a")] });
    expect(summary(split(oneLine))).toEqual([
      { role: "document", line: 1, kind: undefined, listKind: undefined },
    ]);
  });

  it("reads whole a document with content on its `---` line", () => {
    const text = "--- |\nitems:\n- a\nkind: Pod\nmetadata: {}\n";
    expect(summary(split(text))).toEqual([
      { role: "document", line: 1, kind: undefined, listKind: undefined },
    ]);
    expect(split(text)[0]?.text).toBe(text.trimEnd());
  });

  it("keeps no text of a piece over the limit, only its size", () => {
    const text = kubectlList([pod("a", 300), pod("big", 3000), pod("c", 300)], false);
    const pieces = split(text, 2000);
    expect(pieces.map((p) => [p.role, p.text === undefined, p.bytes > 2000])).toEqual([
      ["item", false, false],
      ["item", true, true],
      ["item", false, false],
      ["rest", false, false],
    ]);
  });

  it("spots a kind only with metadata, and not when two kinds are given", () => {
    expect(split("kind: Pod\nspec: {}\n")[0]?.kind).toBeUndefined();
    expect(split("kind: Pod\nmetadata: {}\nkind: Node\n")[0]?.kind).toBeUndefined();
    // A kind further in is not the object's.
    expect(split("metadata:\n  kind: Pod\n")[0]?.kind).toBeUndefined();
  });
});

describe("readManifest: a file larger than the limit, read one object at a time", () => {
  const keepAll: ObjectFilter = { keep: (object) => object };
  const names = (objects: LooseObject[]) => objects.map((o) => o.metadata.name);

  function file(name: string, text: string): string {
    const path = join(tempDir(), name);
    writeFileSync(path, text);
    return path;
  }

  it("reads every item of a List many times the limit (items at column 0 and indented)", async () => {
    const pods = Array.from({ length: 200 }, (_, i) => pod(`p-${i}`, 500));
    for (const indentSeq of [false, true]) {
      const path = file("pods.yaml", kubectlList(pods, indentSeq));
      const read = await readManifest(path, 4096, keepAll);
      expect(read.problems).toEqual([]);
      expect(read.found).toBe(200);
      expect(read.objects).toEqual(pods);
    }
  });

  it("reads every document of a stream many times the limit, and every item of pretty JSON", async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p-${i}`, 500));
    const stream = await readManifest(file("pods.yaml", pods.map((p) => stringify(p)).join("---\n")), 4096);
    expect(stream).toEqual({ objects: pods, found: 100, problems: [] });
    const json = JSON.stringify({ apiVersion: "v1", kind: "List", items: pods }, null, 2);
    const fromJson = await readManifest(file("pods.json", json), 4096);
    expect(fromJson).toEqual({ objects: pods, found: 100, problems: [] });
  });

  it("skips an item over the limit with a note, and reads the rest of the file", async () => {
    const path = file("pods.yaml", kubectlList([pod("a"), pod("big", 20_000), pod("c")], false));
    const read = await readManifest(path, 8192, keepAll);
    expect(names(read.objects)).toEqual(["a", "c"]);
    expect(read.problems).toEqual([
      "the list item at line 15 is 19.5 KiB, larger than the 8.0 KiB diagnose parses of one object; skipped, and the rest of the file read",
    ]);
  });

  it("skips one huge line with a note, and reads the documents after it", async () => {
    // A line many read buffers long, then documents with CRLF line ends, the last without one.
    const text = `${JSON.stringify({ kind: "ConfigMap", metadata: { name: "huge" }, data: { x: "y".repeat(300_000) } })}\n---\r\n${stringify(pod("a")).replaceAll("\n", "\r\n")}---\r\n${stringify(pod("b")).trimEnd()}`;
    const read = await readManifest(file("mixed.yaml", text), 64 * 1024, keepAll);
    expect(names(read.objects)).toEqual(["a", "b"]);
    expect(read.problems).toEqual([
      "the document at line 1 is 293 KiB, larger than the 64.0 KiB diagnose parses of one object; skipped, and the rest of the file read",
    ]);
  });

  it("reads lines that cross the read buffer's end whole, multi-byte characters included", async () => {
    const pods = Array.from({ length: 40 }, (_, i) => pod(`p-${i}-é`, 3000, { team: "équipe-ü" }));
    const read = await readManifest(file("pods.yaml", kubectlList(pods, false)), 1024 * 1024, keepAll);
    expect(read.objects).toEqual(pods);
  });

  it("says where a broken item is in the file, and reads the others", async () => {
    const text = kubectlList([pod("a"), pod("b")], false).replace("    name: b\n", "    name: b: c\n");
    const read = await readManifest(file("pods.yaml", text), 4096, keepAll);
    expect(names(read.objects)).toEqual(["a"]);
    expect(read.problems).toEqual([
      "not valid YAML or JSON: Nested mappings are not allowed in compact mappings at line 18, column 11:",
    ]);
    expect(text.split("\n")[17]).toBe("    name: b: c");
  });

  it("gives the items of a typed list its kind, whether it comes before or after them", async () => {
    const items = "items:\n- metadata:\n    name: a\n- metadata:\n    name: b\n";
    for (const text of [`kind: PodList\n${items}`, `apiVersion: v1\n${items}kind: PodList\n`]) {
      const read = await readManifest(file("pods.yaml", text), 4096, keepAll);
      expect(read.objects).toEqual([
        { kind: "Pod", metadata: { name: "a" } },
        { kind: "Pod", metadata: { name: "b" } },
      ]);
    }
  });

  it("parses nothing the filter skips, and counts it as found", async () => {
    const seen: string[] = [];
    const filter: ObjectFilter = {
      keep: (object) => object,
      skip: (kind, text) => {
        seen.push(kind);
        return text.includes("name: b");
      },
    };
    const text = `${kubectlList([pod("a"), pod("b")], false)}---\n${stringify(pod("c"))}`;
    const read = await readManifest(file("pods.yaml", text), 4096, filter);
    expect(names(read.objects)).toEqual(["a", "c"]);
    expect(read.found).toBe(3);
    expect(seen).toEqual(["Pod", "Pod", "Pod"]);
  });

  it("still says when a file holds no objects: a kind without metadata is none", async () => {
    const skipAll: ObjectFilter = { keep: () => undefined, skip: () => true };
    const read = await readManifest(file("x.yaml", "kind: Pod\nspec: {}\n"), 4096, skipAll);
    expect(read).toEqual({
      objects: [],
      found: 0,
      problems: ["holds no Kubernetes objects (no kind and metadata)"],
    });
  });
});
