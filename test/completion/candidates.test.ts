// The candidates of shell completion, on a small commander tree shaped like kvmig's, with fake
// sources that record what they were asked: fixed choices, prefix filtering, `--flag=` forms,
// and which lookups (kubeconfig, cluster) a word causes, with the flags of the line.
import { Argument, Command, type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type ClusterObjects,
  type ClusterTarget,
  type CompletionSources,
  complete,
  pathFlags,
} from "../../src/completion/candidates.js";

function tree(): CommandUnknownOpts {
  const root = new Command("kvmig")
    .version("1.0.0", "--version")
    .option("--kubeconfig <path>", "kubeconfig")
    .option("--context <name>", "context")
    .option("-n, --namespace <namespace>", "namespace")
    .addOption(new Option("-o, --output <format>", "format").choices(["text", "json", "yaml", "wide"]))
    .option("--sim <scenario>", "simulated cluster");
  root
    .command("migrate")
    .argument("<vm>", "the VM")
    .option("--target-node <node>", "node")
    .option("--dry-run");
  root.command("outdated").option("-A, --all-namespaces", "all");
  root
    .command("diagnose")
    .argument("[vm]", "the VM")
    .option("--from <dir>", "offline")
    .option("--only <ids>", "modes")
    .addOption(new Option("--fail-on <level>", "level").choices(["error", "warning", "never"]));
  root.command("sim").option("--scenario <name>", "scenario").option("--kubeconfig-out <path>", "out");
  root.command("completion").addArgument(new Argument("<shell>", "shell").choices(["bash", "zsh", "fish"]));
  root.command("__complete", { hidden: true }).argument("[words...]");
  return root as unknown as CommandUnknownOpts;
}

let calls: string[];

const sources: CompletionSources = {
  scenarios: async () => {
    calls.push("scenarios");
    return ["default", "upgrade", "unschedulable"];
  },
  contexts: async (kubeconfig) => {
    calls.push(`contexts ${kubeconfig ?? "-"}`);
    return ["dev", "prod", "arn:aws:eks:eu-west-1:1:cluster/x"];
  },
  failureModes: async () => {
    calls.push("failure-modes");
    return ["not-converging", "not-live-migratable", "version-skew"];
  },
  cluster: async (objects: ClusterObjects, target: ClusterTarget) => {
    calls.push(`${objects} ${JSON.stringify(target)}`);
    if (objects === "vmi") return ["fedora-web", "rhel-db", "win-app"];
    if (objects === "namespace") return ["default", "demo", "kubevirt"];
    return ["node-1", "node-2"];
  },
};

beforeEach(() => {
  calls = [];
});

async function candidates(...words: string[]) {
  return (await complete(tree(), words, sources)).candidates;
}

describe("names from the command tree", () => {
  it("the visible commands, with help and without the hidden one", async () => {
    const names = await candidates("");
    expect(names).toEqual(["migrate", "outdated", "diagnose", "sim", "completion", "help"]);
    expect(calls).toEqual([]);
  });

  it("only those that start with the partial word", async () => {
    expect(await candidates("mi")).toEqual(["migrate"]);
    expect(await candidates("x")).toEqual([]);
  });

  it("the flags of the command in the line, and the global ones", async () => {
    const flags = await candidates("migrate", "--");
    expect(flags).toEqual(expect.arrayContaining(["--target-node", "--dry-run", "--namespace", "--output"]));
    expect(flags).not.toContain("-n");
    expect(flags).not.toContain("--version");
    expect(await candidates("migrate", "--ta")).toEqual(["--target-node"]);
    expect(await candidates("migrate", "-")).toEqual(
      expect.arrayContaining(["-n", "-o", "-h", "--namespace"]),
    );
  });

  it("the choices of an argument", async () => {
    expect(await candidates("completion", "")).toEqual(["bash", "zsh", "fish"]);
    expect(await candidates("completion", "z")).toEqual(["zsh"]);
  });

  it("help completes the other commands", async () => {
    expect(await candidates("help", "")).toEqual([
      "migrate",
      "outdated",
      "diagnose",
      "sim",
      "completion",
      "exit-codes",
      "failure-modes",
      "environment",
    ]);
  });
});

describe("values of flags", () => {
  it("-o: text, json and yaml, and wide only where a table is printed", async () => {
    expect(await candidates("migrate", "-o", "")).toEqual(["text", "json", "yaml"]);
    expect(await candidates("outdated", "-o", "")).toEqual(["text", "json", "yaml", "wide"]);
    expect(await candidates("-o", "")).toEqual(["text", "json", "yaml", "wide"]);
    expect(await candidates("migrate", "--output=j")).toEqual(["--output=json"]);
    expect(await candidates("migrate", "-oy")).toEqual(["-oyaml"]);
  });

  it("--fail-on: its choices", async () => {
    expect(await candidates("diagnose", "--fail-on", "")).toEqual(["error", "warning", "never"]);
  });

  it("--sim= and --scenario: the scenario names", async () => {
    expect(await candidates("--sim=")).toEqual(["--sim=default", "--sim=upgrade", "--sim=unschedulable"]);
    expect(await candidates("--sim=u")).toEqual(["--sim=upgrade", "--sim=unschedulable"]);
    expect(await candidates("sim", "--scenario", "up")).toEqual(["upgrade"]);
  });

  it("--context: the kubeconfig's contexts, from the --kubeconfig of the line", async () => {
    expect(await candidates("--context", "")).toEqual(["dev", "prod", "arn:aws:eks:eu-west-1:1:cluster/x"]);
    expect(calls).toEqual(["contexts -"]);
    calls = [];
    expect(await candidates("--kubeconfig", "/k/c", "migrate", "--context=p")).toEqual(["--context=prod"]);
    expect(calls).toEqual(["contexts /k/c"]);
  });

  it("-n: the cluster's namespaces, asked with the line's kubeconfig and context", async () => {
    expect(await candidates("--kubeconfig=/k/c", "--context", "prod", "migrate", "-n", "de")).toEqual([
      "default",
      "demo",
    ]);
    expect(calls).toEqual([`namespace ${JSON.stringify({ kubeconfig: "/k/c", context: "prod" })}`]);
  });

  it("--target-node: the cluster's nodes", async () => {
    expect(await candidates("migrate", "--target-node", "")).toEqual(["node-1", "node-2"]);
  });

  it("--only: failure-mode ids, one item of the comma-separated list at a time", async () => {
    expect(await candidates("diagnose", "--only", "not-")).toEqual(["not-converging", "not-live-migratable"]);
    expect(await candidates("diagnose", "--only", "version-skew,not-c")).toEqual([
      "version-skew,not-converging",
    ]);
    expect(await candidates("diagnose", "--only=version-skew,")).toEqual([
      "--only=version-skew,not-converging",
      "--only=version-skew,not-live-migratable",
      "--only=version-skew,version-skew",
    ]);
  });

  it("paths: no candidates, and files or directories as the fallback", async () => {
    expect(await complete(tree(), ["--kubeconfig", ""], sources)).toMatchObject({
      candidates: [],
      fallback: "files",
    });
    expect(await complete(tree(), ["diagnose", "--from", ""], sources)).toMatchObject({ fallback: "dirs" });
    expect(await complete(tree(), ["migrate", "-o", ""], sources)).toMatchObject({ fallback: "none" });
    expect(pathFlags(tree())).toEqual({ files: ["kubeconfig", "kubeconfig-out"], dirs: ["from"] });
  });

  it("a boolean flag completes true and false after =, as pflag reads them", async () => {
    expect(await candidates("migrate", "--dry-run=")).toEqual(["--dry-run=true", "--dry-run=false"]);
    expect(await candidates("migrate", "--dry-run=f")).toEqual(["--dry-run=false"]);
    expect(await candidates("migrate", "--bogus=")).toEqual([]);
  });
});

describe("the VM argument", () => {
  it("the VMIs of the namespace the line names", async () => {
    expect(await candidates("migrate", "-n", "demo", "")).toEqual(["fedora-web", "rhel-db", "win-app"]);
    expect(calls).toEqual([`vmi ${JSON.stringify({ namespace: "demo" })}`]);
  });

  it("--namespace=x, --context and --kubeconfig all reach the lookup", async () => {
    expect(
      await candidates("--context=dev", "diagnose", "--namespace=prod-vms", "--kubeconfig", "/k", "r"),
    ).toEqual(["rhel-db"]);
    expect(calls).toEqual([
      `vmi ${JSON.stringify({ kubeconfig: "/k", context: "dev", namespace: "prod-vms" })}`,
    ]);
  });

  it("without -n, the lookup uses the context's namespace (none given)", async () => {
    await candidates("migrate", "");
    expect(calls).toEqual([`vmi ${JSON.stringify({})}`]);
  });

  it("after --, still the VM", async () => {
    expect(await candidates("migrate", "--", "f")).toEqual(["fedora-web"]);
  });

  it("with --sim the cluster does not exist yet: nothing is asked", async () => {
    expect(await candidates("--sim", "migrate", "")).toEqual([]);
    expect(await candidates("--sim=upgrade", "migrate", "-n", "")).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("no second VM", async () => {
    expect(await candidates("migrate", "fedora-web", "")).toEqual([]);
    expect(calls).toEqual([]);
  });
});

describe("the bare form for kubectl (cobra)", () => {
  it("drops --flag= but keeps -n and list items", async () => {
    const reply = await complete(tree(), ["migrate", "--output=j"], sources);
    expect(reply.bare).toEqual(["json"]);
    expect((await complete(tree(), ["migrate", "-oj"], sources)).bare).toEqual(["-ojson"]);
    expect((await complete(tree(), ["diagnose", "--only=version-skew,not-c"], sources)).bare).toEqual([
      "version-skew,not-converging",
    ]);
  });
});

describe("nodes: the --node flag and a NODE argument (watch --node, evacuate NODE)", () => {
  function nodeTree(): CommandUnknownOpts {
    const root = new Command("kvmig")
      .option("--kubeconfig <path>", "kubeconfig")
      .option("--context <name>", "context")
      .option("-n, --namespace <namespace>", "namespace")
      .option("--sim <scenario>", "simulated cluster");
    root.command("watch").argument("[vm]", "the VM").option("--node <node>", "node");
    root.command("evacuate").argument("[node]", "the node").option("--dry-run");
    return root as unknown as CommandUnknownOpts;
  }
  const nodeCandidates = async (...words: string[]) =>
    (await complete(nodeTree(), words, sources)).candidates;

  it("--node: the cluster's nodes, asked with the line's context; --node= keeps its prefix", async () => {
    expect(await nodeCandidates("--context", "prod", "watch", "--node", "")).toEqual(["node-1", "node-2"]);
    expect(calls).toEqual([`node ${JSON.stringify({ context: "prod" })}`]);
    expect(await nodeCandidates("watch", "--node=node-2")).toEqual(["--node=node-2"]);
  });

  it("the NODE argument: the cluster's nodes, filtered by the partial word; nothing for a second word", async () => {
    expect(await nodeCandidates("evacuate", "")).toEqual(["node-1", "node-2"]);
    expect(await nodeCandidates("evacuate", "--dry-run", "node-2")).toEqual(["node-2"]);
    expect(calls).toEqual([`node ${JSON.stringify({})}`, `node ${JSON.stringify({})}`]);
    calls = [];
    expect(await nodeCandidates("evacuate", "node-1", "")).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("watch's own argument is still a VM; with --sim there is no cluster to ask yet", async () => {
    expect(await nodeCandidates("watch", "-n", "demo", "")).toEqual(["fedora-web", "rhel-db", "win-app"]);
    calls = [];
    expect(await nodeCandidates("--sim", "default", "evacuate", "")).toEqual([]);
    expect(calls).toEqual([]);
  });
});
