// src/io/jsonpath.ts against the real kubectl: each template runs through both on the same JSON
// document, and the two must print the same text, or fail with the same error. kubectl evaluates a
// template offline with `kubectl patch -f FILE --local -p '{}' -o jsonpath=...` (an empty merge
// patch: the object as it is in the file, no cluster needed). The document's data sits under keys
// other than `items`, which kubectl would take for a list of objects to patch one by one.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { JsonPath, JsonPathError, type JsonPathOptions } from "../../src/io/jsonpath.js";
import { tempDir } from "../helpers/kubeconfig.js";
import { findKubectl } from "../helpers/kubectl.js";

const run = promisify(execFile);
const kubectl = findKubectl();
if (!kubectl)
  console.warn("kubectl not found on PATH or in /usr/bin: the JSONPath differential test is skipped");

const document = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "kvmig-data", labels: { tier: "db", app: "web" } },
  cluster: { kubevirt: "v1.5.0", launcherImage: "quay.io/kubevirt/virt-launcher:v1.5.0", nodes: 3 },
  vmis: [
    {
      namespace: "demo",
      vmi: "fedora-web",
      node: "node-1",
      outdated: true,
      cpus: 2,
      load: 0.75,
      tags: ["a", "b"],
      owner: null,
    },
    { namespace: "demo", vmi: "rhel-db", node: "node-2", outdated: false, cpus: 4, load: 1.5, tags: [] },
    {
      namespace: "prod",
      vmi: "win-app",
      node: "node-2",
      outdated: true,
      cpus: 8,
      load: 1234567.5,
      note: "a<b & c>d",
    },
  ],
  summary: { outdated: 2, total: 3, ratio: 0.000012 },
  text: "héllo",
  empty: {},
  list: [],
};

/** The templates both evaluate: kvmig's uses, then the dialect's corners, then error cases. */
const templates = [
  "{.kind}",
  "{.metadata.name}",
  "{$.metadata.labels}",
  "{.metadata.labels.app}",
  // A wildcard over a map of one key: Go ranges over a map in random order.
  "{.metadata.name.*}",
  "{.cluster.kubevirt}",
  "{.vmis[0].tags.*}",
  "{.metadata.labels['app']}",
  "{.cluster.nodes}",
  "{.vmis[*].vmi}",
  "{.vmis[0]}",
  "{.vmis[-1].vmi}",
  "{.vmis[0:2].vmi}",
  "{.vmis[1:].vmi}",
  "{.vmis[:1].vmi}",
  "{.vmis[::2].vmi}",
  "{.vmis[0:3:2].vmi}",
  "{.vmis[0,2].vmi}",
  "{.vmis[*]['vmi','node']}",
  "{.vmis[0]['vmi', 'node']}",
  "{.vmis[2:2]}",
  "{.vmis[?(@.outdated == true)].vmi}",
  "{.vmis[?(@.outdated)].vmi}",
  "{.vmis[?(@.owner)].vmi}",
  "{.vmis[?(@.note)].vmi}",
  // An existence test keeps an item when its step fails but hands its input on (client-go).
  "{.vmis[?(@.tags[0])].vmi}",
  "{.vmis[?(@.tags[5])].vmi}",
  "{.vmis[?(@.vmi[0])].vmi}",
  "{.vmis[?(@.tags[*])].vmi}",
  "{.vmis[?(@.tags[0,1])].vmi}",
  '{.vmis[?(@.node == "node-2")].vmi}',
  "{.vmis[?(@.node != 'node-2')].vmi}",
  "{.vmis[?(@.cpus > 2)].vmi}",
  "{.vmis[?(@.cpus >= 4)].vmi}",
  "{.vmis[?(@.cpus < 4)].vmi}",
  "{.vmis[?(@.cpus <= 4)].vmi}",
  "{.vmis[?(@.load > 1.0)].vmi}",
  "{.vmis[?(@.load == 1.5)].vmi}",
  "{.vmis[?(@.cpus == 2.0)].vmi}",
  "{2.0} {-1.5} {+3}",
  '{.vmis[?(@.vmi < "rhel")].vmi}',
  '{range .vmis[*]}{.namespace}/{.vmi}{"\\n"}{end}',
  "{range .vmis[*]}{.vmi}{'\\t'}{.node}{'\\n'}{end}",
  "{range .vmis[?(@.outdated)]}[{.vmi}:{range .tags[*]}<{@}>{end}]{end}",
  "{range .vmis[*]}{.vmi},{end}{.kind}",
  "{range .vmis[*]}{.vmi}",
  "{range .nothing[*]}{.vmi}{end}done",
  "{range .list[*]}x{end}done",
  "{..vmi}",
  "{..nodes}",
  "{.vmis[0].owner}",
  "{.vmis[0].load}",
  "{.vmis[2].load}",
  "{.summary.ratio}",
  "{.vmis[2].note}",
  "{.vmis[2]}",
  "{.text}",
  "{.empty}",
  "{.list}",
  "{.vmis[0].tags}",
  "{.vmis[0].tags[*]}",
  "{.missing}",
  "{.vmis[*].missing}",
  "{.vmis[0].cpus.x}",
  "{.}",
  "{@}",
  "{$}",
  "name: {.metadata.name} kind: {.kind}",
  "plain text, no action",
  '{"quoted"} {"\\u00e9\\x41"}',
  "{.metadata.name}{.kind}{.cluster.nodes}",
  "{true}",
  "{3}",
  "{.vmis[ 0 ].vmi}",
  "{ .kind }",
  // Errors, at run time
  "{.vmis[5]}",
  "{.vmis[-4]}",
  "{.vmis[2:1]}",
  "{.vmis[0:9]}",
  "{.vmis[::0]}",
  "{.kind[0]}",
  "{.metadata[0]}",
  "{.vmis[?(@.load > 1)].vmi}",
  '{.vmis[?(@.cpus == "2")].vmi}',
  "{.vmis[?(@.tags == 1)].vmi}",
  "{.vmis[?(@.outdated < true)].vmi}",
  "{.metadata[?(@.name)]}",
  "{end}",
  "{foo}",
  // Errors, at parse time
  "{.kind",
  "{.vmis[0].tags..}",
  "{.vmis[*].tags..}",
  '{.vmis[?(@.x == "a)]}',
  "{.vmis[?(@.x == 1}",
  '{"unterminated}',
  "{.vmis[a]}",
  "{#}",
  "{..x}",
  "{.vmis[0].tags..}",
  "{.vmis[*].tags..}",
  "{.a....b}",
  "{1.2.3}",
];

function kubectlError(stderr: string): string {
  const parse = /^error: error parsing jsonpath .*?, (.*)$/m.exec(stderr);
  if (parse) return `parse: ${parse[1]}`;
  const exec = /Error executing template: (.*?)\. Printing more information/s.exec(stderr);
  if (exec) return `run: ${exec[1]}`;
  return `unrecognised kubectl error: ${stderr}`;
}

function ours(template: string, options: JsonPathOptions = { allowMissingKeys: true }): string {
  let path: JsonPath;
  try {
    path = new JsonPath(template, options);
  } catch (error) {
    if (error instanceof JsonPathError) return `parse: ${error.message}`;
    throw error;
  }
  try {
    return `ok: ${path.execute(document)}`;
  } catch (error) {
    if (error instanceof JsonPathError) return `run: ${error.message}`;
    throw error;
  }
}

describe.skipIf(!kubectl)("JSONPath: kvmig's module and kubectl print the same", () => {
  const dir = tempDir();
  const file = join(dir, "object.json");
  writeFileSync(file, JSON.stringify(document));
  const env = { PATH: process.env.PATH ?? "", HOME: dir, KUBECONFIG: join(dir, "none") };

  async function theirs(template: string, format = "jsonpath", extra: string[] = []): Promise<string> {
    const args = [
      "patch",
      "-f",
      file,
      "--local",
      "-p",
      "{}",
      "--type=merge",
      ...extra,
      "-o",
      `${format}=${template}`,
    ];
    try {
      const { stdout } = await run(kubectl as string, args, { env });
      return `ok: ${stdout}`;
    } catch (error) {
      return kubectlError(String((error as { stderr?: unknown }).stderr ?? ""));
    }
  }

  it("on every template, including the failing ones", async () => {
    const pairs: Array<{ template: string; kubectl: string; kvmig: string }> = [];
    // A few at a time: the machine is shared.
    for (let i = 0; i < templates.length; i += 4) {
      const batch = templates.slice(i, i + 4);
      const outputs = await Promise.all(batch.map((t) => theirs(t)));
      batch.forEach((template, k) => {
        pairs.push({ template, kubectl: outputs[k] ?? "", kvmig: ours(template) });
      });
    }
    const differing = pairs.filter((p) => p.kubectl !== p.kvmig);
    expect(differing).toEqual([]);
    // The cases cover all three outcomes.
    const outcomes = new Set(pairs.map((p) => p.kubectl.split(":")[0]));
    expect([...outcomes].sort()).toEqual(["ok", "parse", "run"]);
  }, 120_000);

  it("jsonpath-as-json: each {...} as an indented JSON array", async () => {
    const asJson = [
      "{.vmis[*].vmi}",
      "{.kind}{.vmis[0]}",
      "{.metadata}",
      "{.missing}",
      "{range .vmis[*]}{.cpus}{end}",
    ];
    for (const template of asJson) {
      expect(ours(template, { allowMissingKeys: true, outputJson: true })).toBe(
        await theirs(template, "jsonpath-as-json"),
      );
    }
  });

  it("--allow-missing-template-keys=false: a missing key is an error", async () => {
    const strict = [
      "{.missing}",
      "{.vmis[*].note}",
      "{.vmis[*].cpus}",
      "{range .nothing[*]}{.x}{end}",
      "{.vmis[?(@.note)].vmi}",
      "{.vmis[?(@.tags[0])].vmi}",
      "{.vmis[?(@.tags[0].x)].vmi}",
    ];
    for (const template of strict) {
      expect(ours(template, { allowMissingKeys: false })).toBe(
        await theirs(template, "jsonpath", ["--allow-missing-template-keys=false"]),
      );
    }
  });
});
