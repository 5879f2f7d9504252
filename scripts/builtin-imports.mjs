// Rewrites the bundle's ES imports of Node built-ins (`import{a as b}from"node:util"`) to
// require() calls at the top of the file (`var{a:b}=require("node:util")`).
//
// Why: an ES import of a built-in makes Node build the module's ES facade, which reads every one
// of its exports, and reading some of them loads more code: `node:fs` (ReadStream) the streams,
// fs/promises and readline; `node:util` (TextDecoder) the encoding and diff modules, and they
// load more again. require() returns the module object as it is, and the destructuring reads
// only the names the code imports. esbuild has no option for this (and its CommonJS interop,
// __toESM, reads every property descriptor, which loads the same lazy exports), hence this
// small pass over its output. Both are evaluated before the rest of the module, as imports are.
import { isBuiltin } from "node:module";

const statement =
  /(?<=^|[;}\n])import\s*(?:([\w$]+)\s*,?\s*)?(?:\*\s*as\s*([\w$]+)\s*)?(?:\{([^}]*)\}\s*)?(?:from\s*)?"([^"]+)";?/g;

/**
 * Returns `code` with its imports of built-ins turned into require() calls inserted after
 * `anchor` (the line that defines require), and how many it rewrote.
 */
export function requireBuiltins(code, anchor) {
  const declarations = [];
  const rewritten = code.replace(statement, (whole, defaultName, namespace, named, specifier) => {
    if (!isBuiltin(specifier)) return whole;
    const module = `require(${JSON.stringify(specifier)})`;
    const names = [];
    for (const part of (named ?? "").split(",")) {
      const [imported, local = imported] = part.trim().split(/\s+as\s+/);
      if (!imported) continue;
      if (imported === "default") declarations.push(`var ${local}=${module};`);
      else names.push(imported === local ? imported : `${imported}:${local}`);
    }
    for (const name of [defaultName, namespace]) if (name) declarations.push(`var ${name}=${module};`);
    if (names.length > 0) declarations.push(`var{${names.join(",")}}=${module};`);
    if (!defaultName && !namespace && named === undefined) declarations.push(`${module};`);
    return "";
  });
  if (declarations.length === 0) return { code, count: 0 };
  const at = rewritten.indexOf(anchor);
  if (at < 0) throw new Error(`builtin-imports: "${anchor}" not found`);
  const end = at + anchor.length;
  const result = `${rewritten.slice(0, end)}${declarations.join("")}${rewritten.slice(end)}`;
  const left =
    /(?:from\s*|import\s*)"(?:node:)?(?:fs|path|util|os|tty|stream|events|process|crypto|http|https|net|tls|url)"/.exec(
      result.slice(end + declarations.join("").length),
    );
  if (left) throw new Error(`builtin-imports: an import of a built-in was left: ${left[0]}`);
  return { code: result, count: declarations.length };
}
