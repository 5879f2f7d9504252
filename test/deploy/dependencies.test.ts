// package.json's "dependencies" are what kvmig runs with, and only that: every package that
// shipped code imports at run time (src/, and the build's stand-ins in scripts/stubs/, which are
// bundled into dist/) is a dependency, and every dependency is imported so (or is a peer that
// one of them needs: commander, for @commander-js/extra-typings). A package only tests, the
// bench or the build scripts import is a dev dependency. The bundle (esbuild's metafile,
// dist/meta.json) holds no package npm installs only for development, and none of those
// issue 25 took out of it: the editor prompt's code pages, a second YAML parser, a second chalk.
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot } from "../e2e/built-cli.js";

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as Manifest;
const dependencies = Object.keys(manifest.dependencies ?? {});
const devDependencies = Object.keys(manifest.devDependencies ?? {});

/** Every file under `dir` (relative to the repository) whose name ends with one of `endings`. */
function filesUnder(dir: string, endings: readonly string[]): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && endings.some((ending) => entry.name.endsWith(ending)))
    .map((entry) => relative(repoRoot, join(entry.parentPath, entry.name)).split("\\").join("/"));
}

/** The package a bare specifier names ("@scope/name/deep/path.js" -> "@scope/name"). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/**
 * The packages a file imports: static imports and re-exports, import() of a literal, bare
 * `import "x"`; with `runtimeOnly`, not `import type`/`export type` nor a list of types alone.
 * Comment lines are left out first.
 */
function packagesImported(text: string, runtimeOnly: boolean): string[] {
  const code = text
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join("\n");
  const pattern =
    /\b(import|export)(\s[^;'"`]*?)\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s+["']([^"']+)["']/g;
  const found = new Set<string>();
  for (const match of code.matchAll(pattern)) {
    const specifier = match[3] ?? match[4] ?? match[5];
    // Relative and absolute paths, built-ins, and esbuild's virtual modules (kvmig:startup-core).
    if (!specifier || /^[./]|^[a-z]+:/.test(specifier) || isBuiltin(specifier)) continue;
    const clause = match[2]?.trim() ?? "";
    if (runtimeOnly && match[3] !== undefined) {
      if (/^type\b/.test(clause)) continue;
      const named = /^\{([^}]*)\}$/.exec(clause);
      const items = named?.[1]
        ?.split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
      if (items && items.length > 0 && items.every((item) => item.startsWith("type "))) continue;
    }
    found.add(packageOf(specifier));
  }
  return [...found];
}

/** The packages the given files import, with the files that import each. */
function importsOfFiles(files: readonly string[], runtimeOnly: boolean): Map<string, string[]> {
  const byPackage = new Map<string, string[]>();
  for (const file of files) {
    for (const name of packagesImported(readFileSync(join(repoRoot, file), "utf8"), runtimeOnly)) {
      byPackage.set(name, [...(byPackage.get(name) ?? []), file]);
    }
  }
  return byPackage;
}

/** Shipped code: src/ and the stand-ins the build bundles in place of parts of dependencies. */
const shippedFiles = [...filesUnder("src", [".ts"]), ...filesUnder("scripts/stubs", [".mjs"])];

describe("packagesImported", () => {
  it("finds imports, re-exports, import() and bare imports, and tells type-only ones apart", () => {
    const text = [
      'import { a } from "pkg-a";',
      'import type { B } from "pkg-b";',
      'import { type C } from "pkg-c";',
      'import { type D, e } from "@scope/pkg-d/deep/file.js";',
      'export { default as f } from "@scope/pkg-f";',
      'export type { G } from "pkg-g";',
      'import "pkg-h";',
      'const i = await import("pkg-i");',
      'import { readFileSync } from "node:fs";',
      'import "kvmig:startup-core";',
      'import { join } from "path";',
      'import { local } from "./local.js";',
      '// import("pkg-in-a-comment")',
      "import {",
      "  j,",
      '} from "pkg-j";',
    ].join("\n");
    expect(packagesImported(text, true).sort()).toEqual([
      "@scope/pkg-d",
      "@scope/pkg-f",
      "pkg-a",
      "pkg-h",
      "pkg-i",
      "pkg-j",
    ]);
    expect(packagesImported(text, false).sort()).toEqual([
      "@scope/pkg-d",
      "@scope/pkg-f",
      "pkg-a",
      "pkg-b",
      "pkg-c",
      "pkg-g",
      "pkg-h",
      "pkg-i",
      "pkg-j",
    ]);
  });
});

describe("dependencies", () => {
  const shipped = importsOfFiles(shippedFiles, true);

  it("every package shipped code imports at run time is a dependency", () => {
    const missing = [...shipped.keys()]
      .filter((name) => !dependencies.includes(name))
      .map((name) => `${name} (imported by ${shipped.get(name)?.join(", ")})`);
    expect(missing).toEqual([]);
  });

  it("every dependency is imported by shipped code at run time, or is a peer one of those needs", () => {
    const peers = new Set(
      [...shipped.keys()].flatMap((name) => {
        const own = JSON.parse(
          readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8"),
        ) as Manifest;
        return Object.keys(own.peerDependencies ?? {});
      }),
    );
    const unused = dependencies.filter((name) => !shipped.has(name) && !peers.has(name));
    expect(unused, "a package only tests or scripts use belongs in devDependencies").toEqual([]);
  });

  it("every package tests, the bench and the scripts import is declared", () => {
    const development = importsOfFiles(
      [
        // This file's own examples are no imports.
        ...filesUnder("test", [".ts", ".mjs"]).filter((file) => file !== "test/deploy/dependencies.test.ts"),
        ...filesUnder("bench", [".mjs"]),
        ...filesUnder("scripts", [".mjs"]),
        "vitest.config.ts",
      ],
      false,
    );
    const undeclared = [...development.keys()]
      .filter((name) => !dependencies.includes(name) && !devDependencies.includes(name))
      .map((name) => `${name} (imported by ${development.get(name)?.join(", ")})`);
    expect(undeclared).toEqual([]);
  });
});

describe("the bundle", () => {
  /** The installed package directories (package-lock keys) the bundle's code comes from. */
  let bundled: string[];
  let lock: { packages: Record<string, { dev?: boolean; version?: string }> };

  beforeAll(async () => {
    await ensureBuilt();
    const meta = JSON.parse(readFileSync(join(repoRoot, "dist", "meta.json"), "utf8")) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const dirs = new Set<string>();
    for (const output of Object.values(meta.outputs)) {
      for (const input of Object.keys(output.inputs)) {
        // ".../node_modules/ora/node_modules/chalk/source/index.js" -> "node_modules/ora/node_modules/chalk"
        const at = input.indexOf("node_modules/");
        if (at < 0) continue;
        const match = /^(?:node_modules\/(?:@[^/]+\/)?[^/]+\/)*node_modules\/(?:@[^/]+\/)?[^/]+/.exec(
          input.slice(at),
        );
        if (match) dirs.add(match[0]);
      }
    }
    bundled = [...dirs].sort();
    lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8"));
  }, 120_000);

  it("holds code of the dependencies and what they need, nothing npm installs only for development", () => {
    expect(bundled.length).toBeGreaterThan(10);
    const unknown = bundled.filter((dir) => lock.packages[dir] === undefined);
    expect(unknown).toEqual([]);
    const devOnly = bundled.filter((dir) => lock.packages[dir]?.dev === true);
    expect(devOnly).toEqual([]);
  });

  it("holds one YAML parser, one chalk, and not the prompts kvmig never asks with", () => {
    const names = bundled.map((dir) => dir.replace(/^.*node_modules\//, ""));
    expect(names).toContain("yaml");
    expect(names).not.toContain("js-yaml");
    expect(names.filter((name) => name === "chalk")).toHaveLength(1);
    for (const never of ["@inquirer/editor", "@inquirer/external-editor", "iconv-lite", "chardet"]) {
      expect(names).not.toContain(never);
    }
  });
});
