// Shell completion end to end: the bash script the built CLI prints, sourced in a real bash and
// run the way bash runs it on Tab (COMP_WORDS split at = and : as bash splits them, COMP_CWORD,
// COMP_LINE, COMP_POINT), with `kvmig` on PATH as a symlink to dist/kvmig.js and a simulated
// cluster behind KUBECONFIG. Also kubectl's way in (kubectl_complete-kvmig) and an unreachable
// cluster. The shells themselves, typed into under tmux or asked with fish's complete -C, are in
// completion-bash-tmux, completion-zsh and completion-fish.test.ts.
import { execFileSync } from "node:child_process";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { distEntry, ensureBuilt, lines, runProcess } from "./built-cli.js";
import { awkwardKubeconfig, requireTool } from "./completion-shells.js";
import { type SimCli, simCli } from "./sim-cli.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary stored objects.
type Any = any;

let sim: SimCli;
let dir: string;
let bin: string;
let env: Record<string, string>;
let bashScript: string;

beforeAll(async () => {
  await ensureBuilt();
  sim = await simCli();
  dir = tempDir("kvmig-e2e-completion-");
  bin = join(dir, "bin");
  execFileSync("mkdir", ["-p", bin]);
  for (const name of ["kvmig", "kubectl-kvmig", "kubectl_complete-kvmig"])
    symlinkSync(distEntry, join(bin, name));
  env = { ...sim.env, PATH: [bin, sim.env.PATH].join(delimiter) };
  const printed = await runProcess(["completion", "bash"], { command: join(bin, "kvmig"), env });
  expect(printed.code).toBe(0);
  bashScript = join(dir, "kvmig.bash");
  writeFileSync(bashScript, printed.stdout);
}, 120_000);

afterAll(async () => {
  await sim?.close();
});

/** The words bash makes of a line for completion: split at blanks, and at = and : (COMP_WORDBREAKS). */
function bashWords(line: string): string[] {
  const words = [...line.matchAll(/[=:]+|[^\s=:]+/g)].map((m) => m[0]);
  if (line === "" || /\s$/.test(line)) words.push("");
  return words;
}

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Runs the completion function as bash does on Tab at the end of `line`; returns COMPREPLY. */
async function tab(line: string, runEnv: Record<string, string> = env) {
  const words = bashWords(line);
  const script = [
    `source ${quote(bashScript)}`,
    `COMP_WORDS=(${words.map(quote).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${quote(line)}`,
    `COMP_POINT=${line.length}`,
    "_kvmig",
    "status=$?",
    `for reply in "\${COMPREPLY[@]}"; do printf '%s\\n' "$reply"; done`,
    "exit $status",
  ].join("\n");
  const started = performance.now();
  const result = await runProcess(["-c", script], { command: "bash", env: runEnv, timeoutMs: 15_000 });
  const ms = Math.round(performance.now() - started);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return { reply: lines(result.stdout), ms };
}

function namesIn(storage: string, namespace?: string): string[] {
  return (sim.cluster.store.list(storage, namespace) as Any[]).map((o) => o.metadata.name as string).sort();
}

describe("bash: kvmig <Tab>", () => {
  it("the script parses (bash -n), and ShellCheck finds nothing in it", () => {
    expect(() => execFileSync("bash", ["-n", bashScript])).not.toThrow();
    requireTool("shellcheck");
    expect(() => execFileSync("shellcheck", ["--shell=bash", bashScript], { stdio: "pipe" })).not.toThrow();
  });

  it("kvmig migrate -n demo <Tab>: the VMs of demo in the simulated cluster", async () => {
    const expected = namesIn(R.vmi.storage, "demo");
    expect(expected).toContain("fedora-web");
    const { reply, ms } = await tab("kvmig migrate -n demo ");
    expect(reply).toEqual(expected);
    console.log(`kvmig migrate -n demo <Tab>: ${ms} ms (bash, node, cluster lookup)`);
  });

  it("kvmig migrate --namespace=demo f<Tab>: the word split at = is joined again", async () => {
    expect(bashWords("kvmig migrate --namespace=demo f")).toEqual([
      "kvmig",
      "migrate",
      "--namespace",
      "=",
      "demo",
      "f",
    ]);
    expect((await tab("kvmig migrate --namespace=demo f")).reply).toEqual(["fedora-web"]);
  });

  it("kvmig mi<Tab>: migrate", async () => {
    expect((await tab("kvmig mi")).reply).toEqual(["migrate"]);
  });

  it("kvmig migrate -o <Tab>: the output formats (wide only where a command has a table)", async () => {
    const { reply } = await tab("kvmig migrate -o ");
    expect(reply).toEqual(expect.arrayContaining(["text", "json", "yaml"]));
    expect(reply).not.toContain("wide");
  });

  it("kvmig migrate --<Tab>: its flags and the global ones", async () => {
    const { reply } = await tab("kvmig migrate --");
    expect(reply).toEqual(expect.arrayContaining(["--target-node", "--namespace", "--dry-run", "--context"]));
  });

  it("kvmig -n <Tab>: the namespaces of the cluster", async () => {
    const expected = namesIn("namespaces");
    expect(expected).toContain("demo");
    expect((await tab("kvmig -n ")).reply).toEqual(expected);
  });

  it("kvmig --context=<Tab>: the kubeconfig's contexts, only the value replaced", async () => {
    expect((await tab("kvmig --context=")).reply).toEqual(["sim-admin", "sim-viewer"]);
    expect((await tab("kvmig --context=sim-v")).reply).toEqual(["sim-viewer"]);
  });

  it("a context name with colons: bash replaces only what follows the last colon", async () => {
    const kubeconfig = join(dir, "eks-config");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "contexts:",
        "- name: arn:aws:eks:eu-west-1:123:cluster/prod",
        "  context: {cluster: c, user: u}",
        "",
      ].join("\n"),
    );
    const { reply } = await tab(`kvmig --kubeconfig ${kubeconfig} --context arn:aws:eks:eu`);
    expect(reply).toEqual(["eu-west-1:123:cluster/prod"]);
  });

  it("a space or a quote in a name: escaped, as bash inserts a candidate as it is; after an opening quote, bare", async () => {
    const kubeconfig = awkwardKubeconfig(dir).path;
    const line = `kvmig --kubeconfig ${kubeconfig} --context `;
    expect((await tab(`${line}m`)).reply).toEqual(["my\\ lab"]);
    expect((await tab(`${line}it`)).reply).toEqual(["it\\'s"]);
    expect((await tab(`${line}'m`)).reply).toEqual(["my lab"]);
    // The words before the cursor reach kvmig unquoted: the kubeconfig's path too.
    expect((await tab(`kvmig --kubeconfig '${kubeconfig}' --context m`)).reply).toEqual(["my\\ lab"]);
  });

  it("kvmig --sim=up<Tab>: the scenarios", async () => {
    expect((await tab("kvmig --sim=up")).reply).toEqual(["upgrade"]);
  });

  it("kubectl-kvmig migrate -n demo <Tab>: the same for the plugin binary", async () => {
    expect((await tab("kubectl-kvmig cancel -n demo fed")).reply).toEqual(["fedora-web"]);
  });
});

describe("kubectl kvmig <Tab>: kubectl_complete-kvmig", () => {
  it("prints the candidates, then cobra's :4 (no file completion)", async () => {
    const result = await runProcess(["migrate", "-n", "demo", ""], {
      command: join(bin, "kubectl_complete-kvmig"),
      env,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([...namesIn(R.vmi.storage, "demo"), ":4"]);
  });

  it("values of --flag= bare, as kubectl's scripts expect", async () => {
    const result = await runProcess(["migrate", "--output=y"], {
      command: join(bin, "kubectl_complete-kvmig"),
      env,
    });
    expect(lines(result.stdout)).toEqual(["yaml", ":4"]);
  });
});

describe("a cluster out of reach", () => {
  let unreachable: Record<string, string>;

  beforeAll(async () => {
    // A port that was free a moment ago: nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const kubeconfig = join(dir, "unreachable");
    writeFileSync(
      kubeconfig,
      readFileSync(sim.kubeconfig, "utf8").replaceAll(`:${sim.cluster.port}`, `:${port}`),
    );
    unreachable = { ...env, KUBECONFIG: kubeconfig };
  });

  it("bash: no candidates, no message, exit 0", async () => {
    const { reply, ms } = await tab("kvmig migrate -n demo ", unreachable);
    expect(reply).toEqual([]);
    console.log(`unreachable cluster: kvmig migrate -n demo <Tab> gave up in ${ms} ms`);
  });

  it("__complete: prints nothing at all and exits 0", async () => {
    const started = performance.now();
    const result = await runProcess(["__complete", "--", "migrate", ""], {
      command: join(bin, "kvmig"),
      env: unreachable,
    });
    const ms = Math.round(performance.now() - started);
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    console.log(`unreachable cluster: __complete took ${ms} ms`);
  });
});
