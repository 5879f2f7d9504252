// kvmig's fish completion for real: fish's own completion query, `complete -C LINE`, after sourcing
// the script `kvmig completion fish` prints, in a private home (completion-shells.ts). fish runs its
// matching, unescaping and descriptions as it does on Tab. Typed into fish under tmux:
// completion-fish-tmux.test.ts.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { R } from "../../src/sim/controllers/runtime.js";
import { findKubectl } from "../helpers/kubectl.js";
import { lines, runProcess } from "./built-cli.js";
import {
  awkwardKubeconfig,
  fishComplete,
  requireTool,
  type ShellLab,
  shellLab,
} from "./completion-shells.js";

let lab: ShellLab;
beforeAll(async () => {
  requireTool("fish");
  lab = await shellLab();
}, 120_000);
afterAll(async () => {
  await lab?.close();
});

const complete = (line: string) => fishComplete(lab, line);

describe("fish: complete -C 'kvmig ...'", () => {
  it("kvmig mig: the command name", async () => {
    expect(await complete("kvmig mig")).toContain("migrate");
  });

  it("kvmig <Tab>: the commands, not the hidden __complete", async () => {
    const reply = await complete("kvmig ");
    expect(reply).toEqual(expect.arrayContaining(["migrate", "watch", "cancel", "evacuate", "diagnose"]));
    expect(reply).not.toContain("__complete");
  });

  it("kvmig migrate --: migrate's flags and the global ones, not another command's path flags", async () => {
    const reply = await complete("kvmig migrate --");
    expect(reply).toEqual(
      expect.arrayContaining(["--target-node", "--namespace", "--dry-run", "--kubeconfig"]),
    );
    // diagnose's --from and sim's --kubeconfig-out: once offered everywhere by the file rules.
    expect(reply).not.toContain("--from");
    expect(reply).not.toContain("--kubeconfig-out");
  });

  it("kvmig migrate -n demo <Tab>: the VMs of demo in the simulated cluster", async () => {
    const vms = lab.names(R.vmi.storage, "demo");
    expect(vms).toContain("fedora-web");
    expect((await complete("kvmig migrate -n demo ")).sort()).toEqual(vms);
    expect(await complete("kubectl-kvmig cancel -n demo fed")).toEqual(["fedora-web"]);
  });

  it("~/bin/kvmig, off PATH: run with its ~ expanded; a program that is not there: nothing, and no message", async () => {
    expect(await complete("~/bin/kvmig migrate -n demo fed")).toEqual(["fedora-web"]);
    // fishComplete checks that stderr is empty: fish's "Unknown command" would show under the prompt.
    expect(await complete("~/nowhere/kvmig migrate -n demo fed")).toEqual([]);
  });

  it("kvmig migrate -n <Tab>: the namespaces; --namespace=d: the whole word", async () => {
    const namespaces = lab.names("namespaces");
    expect((await complete("kvmig migrate -n ")).sort()).toEqual(namespaces);
    expect((await complete("kvmig migrate --namespace=d")).sort()).toEqual(
      namespaces.filter((n) => n.startsWith("d")).map((n) => `--namespace=${n}`),
    );
  });

  it("kvmig migrate -o <Tab>: the output formats, without wide", async () => {
    const reply = await complete("kvmig migrate -o ");
    expect(reply).toEqual(expect.arrayContaining(["json", "yaml", "text"]));
    expect(reply).not.toContain("wide");
  });

  it("a context name after an opening quote, or with an escaped space: the unquoted word is completed", async () => {
    const { path } = awkwardKubeconfig(lab.dir);
    const line = `kvmig --kubeconfig ${path} --context `;
    expect((await complete(line)).sort()).toEqual([
      "arn:aws:eks:eu-west-1:123:cluster/prod",
      "it's",
      "my lab",
    ]);
    expect(await complete(`${line}'my`)).toEqual(["my lab"]);
    expect(await complete(`${line}my\\ l`)).toEqual(["my lab"]);
    expect(await complete(`${line}"it`)).toEqual(["it's"]);
    expect(await complete(`${line}arn:aws`)).toEqual(["arn:aws:eks:eu-west-1:123:cluster/prod"]);
    expect(await complete(`kvmig --kubeconfig '${path}' --context=m`)).toEqual(["--context=my lab"]);
  });

  it("--kubeconfig: files; diagnose --from: directories only", async () => {
    const files = join(lab.dir, "paths");
    mkdirSync(join(files, "dumps"), { recursive: true });
    writeFileSync(join(files, "config.yaml"), "");
    expect((await complete(`kvmig --kubeconfig ${files}/`)).sort()).toEqual([
      `${files}/config.yaml`,
      `${files}/dumps/`,
    ]);
    expect(await complete(`kvmig --kubeconfig=${files}/c`)).toEqual([`--kubeconfig=${files}/config.yaml`]);
    expect(await complete(`kvmig diagnose --from ${files}/`)).toEqual([`${files}/dumps/`]);
  });
});

describe("fish: the script installed where the README says, loaded on the first Tab", () => {
  it("kvmig completion fish > ~/.config/fish/completions/kvmig.fish: fish autoloads it for kvmig", async () => {
    const completions = join(lab.env.XDG_CONFIG_HOME ?? "", "fish", "completions");
    mkdirSync(completions, { recursive: true });
    writeFileSync(join(completions, "kvmig.fish"), readFileSync(lab.script.fish));
    // With the private home's configuration (no --no-config), and nothing sourced.
    const result = await runProcess(["-c", "complete -C $argv[1]", "kvmig migrate -n demo "], {
      command: "fish",
      env: lab.env,
      timeoutMs: 30_000,
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(lines(result.stdout).sort()).toEqual(lab.names(R.vmi.storage, "demo"));
  });
});

if (!findKubectl())
  console.warn("kubectl is neither on PATH nor at /usr/bin/kubectl: skipping kubectl kvmig <Tab> in fish");
describe("fish: kubectl kvmig, through kubectl's completion script and kubectl_complete-kvmig", () => {
  it.skipIf(!findKubectl())("kubectl kvmig migrate -n demo <Tab>: the VMs of demo", async () => {
    const kubectlScript = await lab.kubectlScript("fish");
    if (!kubectlScript) throw new Error("kubectl printed no fish script");
    const reply = await fishComplete(lab, "kubectl kvmig migrate -n demo ", [lab.script.fish, kubectlScript]);
    expect(reply.sort()).toEqual(lab.names(R.vmi.storage, "demo"));
  });
});
