// The arrows of src/ run one way (the architecture guide's "Dependencies flow one way"): the
// import graph of every .ts file under src/ (static imports and re-exports, `import type`
// included, and import() of a literal path) has no cycle; no commands/* file imports another
// one; completion/ imports nothing from commands/; and no layer imports one above it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../src", import.meta.url));

/** Every .ts file under src/, as paths relative to src/ with forward slashes. */
function sourceFiles(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [relative(src, path).split("\\").join("/")] : [];
  });
}

/**
 * The relative specifiers a file imports. Lines that are comments (`//`, `/*`, ` *`) are left
 * out first, so that an import() named in a comment is no edge.
 */
function importsOf(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join("\n");
  const pattern =
    /\b(?:import|export)\s[^;'"`]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s+["']([^"']+)["']/g;
  const found = new Set<string>();
  for (const match of code.matchAll(pattern)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier?.startsWith(".")) found.add(specifier);
  }
  return [...found];
}

type Graph = Map<string, string[]>;

function importGraph(): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles()) {
    const text = readFileSync(join(src, file), "utf8");
    const targets = importsOf(text)
      .filter((specifier) => !specifier.endsWith(".json"))
      .map((specifier) =>
        relative(src, resolve(dirname(join(src, file)), specifier.replace(/\.js$/, ".ts")))
          .split("\\")
          .join("/"),
      );
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/** The strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

function edges(graph: Graph, from: (file: string) => boolean, to: (file: string) => boolean): string[] {
  return [...graph].flatMap(([file, targets]) =>
    from(file) ? targets.filter(to).map((target) => `${file} -> ${target}`) : [],
  );
}

const inDir = (dir: string) => (file: string) => file.startsWith(`${dir}/`);

/**
 * What each part of src/ may not import: the layers of the architecture guide, commands ->
 * (render) -> operations -> (migration, diagnose) -> k8s, with the command tree above commands.
 */
const forbidden: Record<string, readonly string[]> = {
  "operations/": [
    "commands/",
    "cli-tree/",
    "render/",
    "io/",
    "completion/",
    "context.ts",
    "main.ts",
    "run.ts",
    "cli.ts",
  ],
  "render/": ["commands/", "cli-tree/", "completion/", "main.ts", "run.ts", "cli.ts"],
  "migration/": ["commands/", "cli-tree/", "render/", "operations/", "diagnose/", "io/", "completion/"],
  "diagnose/": ["commands/", "cli-tree/", "render/", "operations/", "completion/"],
  "k8s/": [
    "commands/",
    "cli-tree/",
    "render/",
    "operations/",
    "migration/",
    "diagnose/",
    "io/",
    "completion/",
  ],
  "completion/": ["commands/", "render/", "operations/"],
  "cli-tree/": ["render/", "operations/", "completion/"],
};

describe("the import graph of src/", () => {
  const graph = importGraph();

  it("reads every file, and every import names a file that exists", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("main.ts")).toContain("context.ts");
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => !graph.has(t)).map((t) => `${file} -> ${t}`),
    );
    expect(missing).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles(graph).map((c) => c.join(" "))).toEqual([]);
  });

  it("no commands/ file imports another commands/ file", () => {
    expect(edges(graph, inDir("commands"), inDir("commands"))).toEqual([]);
  });

  it("completion/ imports nothing from commands/", () => {
    expect(edges(graph, inDir("completion"), inDir("commands"))).toEqual([]);
  });

  it("only the command tree, main.ts and the snapshot's entry import commands/", () => {
    // sea-snapshot.ts loads the commands' code into the single executable's start-up snapshot.
    const entries = ["main.ts", "cli-tree/tree.ts", "sea-snapshot.ts"];
    const importers = (file: string) => !entries.includes(file);
    expect(edges(graph, (file) => importers(file) && !inDir("commands")(file), inDir("commands"))).toEqual(
      [],
    );
  });

  it.each(Object.entries(forbidden))("%s imports none of the layers above it", (from, banned) => {
    const under = (prefix: string) => (file: string) =>
      prefix.endsWith("/") ? file.startsWith(prefix) : file === prefix;
    expect(edges(graph, under(from), (file) => banned.some((b) => under(b)(file)))).toEqual([]);
  });
});

describe("importsOf", () => {
  it("finds imports, type imports, re-exports, import() and side-effect imports, over several lines", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "../b.js";',
      "import {",
      "  c,",
      "  type D,",
      '} from "./c.js";',
      'export { e } from "./e.js";',
      'export * from "./f.js";',
      'import "./g.js";',
      'const h = await import("./h.js");',
      'import chalk from "chalk";',
      '// a comment naming import("./not-this.js")',
      '/** nor import("./nor-this.js") */',
      ' * nor "./that.js"',
    ].join("\n");
    expect(importsOf(text).sort()).toEqual([
      "../b.js",
      "./a.js",
      "./c.js",
      "./e.js",
      "./f.js",
      "./g.js",
      "./h.js",
    ]);
  });

  it("an import() of a path made at run time is no edge", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal in it.
    expect(importsOf("const m = await import(`./${name}.js`);")).toEqual([]);
  });
});

// The walk really finds cycles: a check that passes on any graph would prove nothing.
describe("cycles", () => {
  it("finds a cycle of two, a longer one and a self-import, and no cycle in a chain", () => {
    const graph: Graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["a.ts", "c.ts"]],
      ["c.ts", ["d.ts"]],
      ["d.ts", ["e.ts"]],
      ["e.ts", ["c.ts"]],
      ["f.ts", ["f.ts"]],
      ["g.ts", ["h.ts"]],
      ["h.ts", []],
    ]);
    expect(
      cycles(graph)
        .map((c) => c.join(" "))
        .sort(),
    ).toEqual(["a.ts b.ts", "c.ts d.ts e.ts", "f.ts"]);
  });
});
