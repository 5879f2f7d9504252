// Stands in for js-yaml, which @kubernetes/client-node's KubeConfig parses a kubeconfig with
// (dist/config.js: yaml.load), so that the bundle holds one YAML parser: the `yaml` package,
// which kvmig reads and writes YAML with anyway. It reads as js-yaml 5's load() does: YAML 1.2's
// core schema (no timestamps, no merge keys), a tag it does not know is an error, and so are a
// duplicate key, an empty stream and, for load(), a stream of more than one document. Errors are
// one line, the reason (the `yaml` package's words) and its place, as js-yaml gives them.
import { parseAllDocuments, stringify, YAMLError } from "yaml";

const options = { schema: "core", logLevel: "silent" };

function reason(problem) {
  if (problem.code === "TAG_RESOLVE_FAILED") return problem.message.split("\n")[0].replace(/ at line.*/, "");
  return problem.message
    .split("\n")[0]
    .replace(/ at line \d+, column \d+:?$/, "")
    .replace(/:$/, "");
}

/** A parser's error or warning as one line: "reason (line:column)". */
function failure(problem) {
  const at = problem.linePos?.[0];
  return new Error(at ? `${reason(problem)} (${at.line}:${at.col})` : reason(problem), { cause: problem });
}

function documents(text) {
  const all = Array.from(parseAllDocuments(String(text), options));
  if (all.length === 0) throw new Error("expected a document, but the input is empty");
  return all;
}

function value(document) {
  const problem =
    document.errors[0] ?? document.warnings.find((warning) => warning.code === "TAG_RESOLVE_FAILED");
  if (problem) throw failure(problem);
  try {
    return document.toJS();
  } catch (error) {
    // An alias with no anchor, too many aliases: thrown while the value is built.
    throw error instanceof YAMLError ? failure(error) : new Error(String(error.message).split("\n")[0]);
  }
}

export function load(text) {
  const all = documents(text);
  if (all.length > 1) throw new Error("expected a single document in the stream, but found more");
  return value(all[0]);
}

export function loadAll(text) {
  return documents(text).map(value);
}

export function dump(data) {
  return stringify(data);
}
