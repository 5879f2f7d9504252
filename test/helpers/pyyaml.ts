// A YAML 1.1 parser for tests: PyYAML's safe loader, in a python3 child process. It reads what
// kvmig writes with -o yaml and answers in JSON (datetimes and other non-JSON values as their
// str(), so a retyped timestamp shows). Missing PyYAML fails the test with how to install it:
// these tests are never skipped.
import { execFileSync } from "node:child_process";

const program = `
import json, sys
try:
    import yaml
except ImportError:
    sys.stderr.write("PyYAML is not installed")
    sys.exit(3)
docs = list(yaml.safe_load_all(sys.stdin))
print(json.dumps(docs if sys.argv[1] == "all" else docs[0] if docs else None, default=str))
`;

const install =
  "install it with: bash scripts/test-tools.sh pyyaml (Debian's python3-yaml; or pip install pyyaml)";

function load(text: string, which: "one" | "all"): unknown {
  let out: string;
  try {
    out = execFileSync("python3", ["-c", program, which], {
      input: text,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { status?: number; stderr?: string };
    if (e.code === "ENOENT")
      throw new Error(`python3 is missing, so PyYAML cannot read the YAML; ${install}`);
    if (e.status === 3) throw new Error(`PyYAML (a YAML 1.1 parser) is missing; ${install}`);
    throw new Error(`PyYAML could not load the YAML: ${e.stderr?.trim().split("\n").at(-1) ?? e.message}`);
  }
  return JSON.parse(out);
}

/** The one YAML document in `text`, as PyYAML (YAML 1.1) reads it. */
export function pyyamlLoad(text: string): unknown {
  return load(text, "one");
}

/** Every document in `text` (`---` separated), as PyYAML reads them. */
export function pyyamlLoadAll(text: string): unknown[] {
  return load(text, "all") as unknown[];
}
