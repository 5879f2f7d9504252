// `kvmig outdated` output written page by page: a table whose columns widen as wider cells come,
// or one JSON or YAML document whose items arrive one page at a time.
import { readFileSync } from "node:fs";
import { stripVTControlCharacters } from "node:util";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createIO } from "../../src/io/io.js";
import type { KubeVirt } from "../../src/k8s/types.js";
import { createOutdatedWriter, type OutdatedFormat, type WriterOptions } from "../../src/outdated/output.js";
import {
  type ClusterFacts,
  clusterFacts,
  countRow,
  emptyCounts,
  type OutdatedCounts,
  type OutdatedRow,
} from "../../src/outdated/rows.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

const oldImage = "quay.io/kubevirt/virt-launcher:v1.8.2";
const current = "quay.io/kubevirt/virt-launcher:v1.9.0";

const schema = JSON.parse(
  readFileSync(new URL("../../docs/schemas/outdated.schema.json", import.meta.url), "utf8"),
);
const validate = new Ajv({ allErrors: true }).compile(schema);

const kubevirt: KubeVirt = {
  metadata: { name: "kubevirt", namespace: "kubevirt" },
  spec: {},
  status: {
    phase: "Deployed",
    observedKubeVirtVersion: "v1.9.0",
    targetKubeVirtVersion: "v1.9.0",
    outdatedVirtualMachineInstanceWorkloads: 3,
  },
};
const facts: ClusterFacts = clusterFacts(kubevirt, current);

function row(changes: Partial<OutdatedRow> & { vmi: string }): OutdatedRow {
  const liveMigratable = changes.liveMigratable === undefined ? true : changes.liveMigratable;
  return {
    namespace: "apps",
    vm: changes.vmi,
    node: "node-1",
    phase: "Running",
    image: oldImage,
    currentImage: current,
    labelled: true,
    liveMigratable,
    reason: null,
    message: null,
    action: liveMigratable ? "migrate" : "restart",
    ...changes,
  };
}

const page1: OutdatedRow[] = [
  row({ vmi: "web-1" }),
  row({
    vmi: "ledger",
    node: "node-2",
    liveMigratable: false,
    reason: "DisksNotLiveMigratable",
    message: "cannot migrate VMI: PVC data is not shared",
    action: "restart",
  }),
];
const page2: OutdatedRow[] = [row({ namespace: "team-b", vmi: "api", node: "node-3" })];

function countsOf(rows: readonly OutdatedRow[]): OutdatedCounts {
  const counts = emptyCounts();
  for (const r of rows) countRow(counts, r);
  return counts;
}

function setup(options: Partial<WriterOptions> & { format: OutdatedFormat }) {
  const buffers = bufferedStreams();
  const io = createIO(buffers.streams, { HOME: "/nonexistent" });
  const writer = createOutdatedWriter(io, {
    allNamespaces: false,
    scope: "in namespace apps",
    ...options,
  });
  return { writer, stdout: buffers.stdout, stderr: buffers.stderr };
}

/** begin, the pages, listed, end; returns what stdout got. */
async function run(
  options: Partial<WriterOptions> & { format: OutdatedFormat },
  pages: OutdatedRow[][],
  results?: unknown[],
): Promise<string> {
  const { writer, stdout, stderr } = setup(options);
  await writer.begin(facts);
  for (const page of pages) await writer.rows(page);
  const counts = countsOf(pages.flat());
  await writer.listed(counts);
  await writer.end({ counts, results });
  expect(stderr()).toBe("");
  return stdout();
}

function lines(text: string): string[] {
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return all;
}

const result = {
  namespace: "apps",
  vm: "web-1",
  action: "migrate",
  outcome: "succeeded",
  sourceNode: "node-1",
  targetNode: "node-2",
  seconds: 12.5,
  migration: "kvmig-web-1-abcde",
  launcherImage: current,
  launcherCurrent: true,
  detail: null,
};

describe("createOutdatedWriter -o json", () => {
  it("two pages make one document with the items in order, the summary, and no results", async () => {
    const text = await run({ format: "json" }, [page1, page2]);
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual(["cluster", "items", "summary"]);
    expect(doc.cluster).toEqual(facts);
    expect(doc.items).toEqual([...page1, ...page2]);
    expect(doc.summary).toEqual({ outdated: 3, migrate: 2, restart: 1, wait: 0, recreate: 0 });
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("results only when given", async () => {
    const doc = JSON.parse(await run({ format: "json" }, [page1, page2], [result]));
    expect(Object.keys(doc)).toEqual(["cluster", "items", "summary", "results"]);
    expect(doc.results).toEqual([result]);
    expect(doc.summary.outdated).toBe(3);
  });

  it("zero rows make an empty items array", async () => {
    const text = await run({ format: "json" }, []);
    expect(text).toContain('"items": []');
    const doc = JSON.parse(text);
    expect(doc.items).toEqual([]);
    expect(doc.summary).toEqual(emptyCounts());
  });

  it("empty pages write nothing and keep the document valid", async () => {
    const doc = JSON.parse(await run({ format: "json" }, [[], page1, [], page2, []]));
    expect(doc.items.map((i: OutdatedRow) => i.vmi)).toEqual(["web-1", "ledger", "api"]);
    expect(JSON.parse(await run({ format: "json" }, [[], []])).items).toEqual([]);
  });

  it("is indented like JSON.stringify(…, null, 2) of the whole document", async () => {
    const text = await run({ format: "json" }, [page1, page2], [result]);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    const empty = await run({ format: "json" }, []);
    expect(empty).toBe(`${JSON.stringify(JSON.parse(empty), null, 2)}\n`);
  });

  it("keeps strings that need escaping intact", async () => {
    const tricky = row({
      vmi: "quote",
      liveMigratable: false,
      reason: 'Odd"Reason',
      message: 'line one\nline two "quoted" \\ ]},',
      action: "restart",
    });
    const doc = JSON.parse(await run({ format: "json" }, [[tricky]]));
    expect(doc.items).toEqual([tricky]);
  });

  it("a full run validates against docs/schemas/outdated.schema.json", async () => {
    const withEverything = [
      ...page1,
      ...page2,
      row({ vmi: "moving", action: "wait" }),
      row({ vmi: "lonely", vm: null, liveMigratable: null, action: "recreate", image: null }),
    ];
    for (const [pages, results] of [
      [
        [withEverything],
        [result, { ...result, vm: "ledger", action: "restart", outcome: "failed", seconds: null }],
      ],
      [[page1, page2], undefined],
      [[], undefined],
    ] as const) {
      const doc = JSON.parse(
        await run(
          { format: "json" },
          pages.map((p) => [...p]),
          results && [...results],
        ),
      );
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
    // No KubeVirt resource, no current image, automatic updates with Evict: still valid.
    const { writer, stdout } = setup({ format: "json" });
    await writer.begin(clusterFacts(undefined, undefined));
    await writer.listed(emptyCounts());
    await writer.end({ counts: emptyCounts() });
    expect(validate(JSON.parse(stdout()))).toBe(true);
    const evict = setup({ format: "json" });
    await evict.writer.begin(
      clusterFacts(
        { ...kubevirt, spec: { workloadUpdateStrategy: { workloadUpdateMethods: ["Evict"] } } },
        current,
      ),
    );
    await evict.writer.listed(emptyCounts());
    await evict.writer.end({ counts: emptyCounts() });
    const doc = JSON.parse(evict.stdout());
    expect(validate(doc)).toBe(true);
    expect(doc.cluster.batchEvictionSize).toBe(10);
  });

  it("the schema rejects a document that breaks it (the check is not vacuous)", async () => {
    const doc = JSON.parse(await run({ format: "json" }, [page1]));
    doc.items[0].action = "explode";
    expect(validate(doc)).toBe(false);
  });
});

describe("createOutdatedWriter -o yaml", () => {
  it("two pages make one document with the items in order and the summary", async () => {
    const text = await run({ format: "yaml" }, [page1, page2]);
    const doc = parseYaml(text);
    expect(Object.keys(doc)).toEqual(["cluster", "items", "summary"]);
    expect(doc.cluster).toEqual(facts);
    expect(doc.items).toEqual([...page1, ...page2]);
    expect(doc.summary).toEqual({ outdated: 3, migrate: 2, restart: 1, wait: 0, recreate: 0 });
  });

  it("says the same as -o json, with results when given", async () => {
    const yaml = parseYaml(await run({ format: "yaml" }, [page1, page2], [result]));
    const json = JSON.parse(await run({ format: "json" }, [page1, page2], [result]));
    expect(yaml).toEqual(json);
    expect(yaml.results).toEqual([result]);
  });

  it("zero rows make an empty items list", async () => {
    const text = await run({ format: "yaml" }, [[], []]);
    expect(text).toContain("items: []\n");
    const doc = parseYaml(text);
    expect(doc.items).toEqual([]);
    expect(doc.summary).toEqual(emptyCounts());
    expect(doc).not.toHaveProperty("results");
  });

  it("keeps multi-line and odd strings intact", async () => {
    const tricky = row({
      vmi: "odd",
      vm: "- not: a list",
      liveMigratable: false,
      reason: "yes",
      message: "line one\n\nline three: with a colon\n  indented # not a comment",
      action: "restart",
    });
    const doc = parseYaml(await run({ format: "yaml" }, [page1, [tricky]]));
    expect(doc.items).toEqual([...page1, tricky]);
  });

  it.each([
    "  leading spaces\nand a second line",
    "trailing newline\n",
    "two trailing newlines\n\n",
    "trailing spaces   \nnext",
    "null",
    "true",
    "0x10",
    "# not a comment",
    "tab\there",
    "ünïcödé → ✓",
    `${"long ".repeat(60)}end`,
  ])("a message of %j comes back the same from a later page", async (message) => {
    const tricky = row({ vmi: "odd", liveMigratable: false, reason: message, message, action: "restart" });
    const text = await run({ format: "yaml" }, [page1, [tricky]]);
    expect(parseYaml(text).items).toEqual([...page1, tricky]);
  });
});

describe("createOutdatedWriter streams", () => {
  it.each(["text", "wide", "json", "yaml"] as const)(
    "-o %s: page 1 is on stdout before page 2 is written",
    async (format) => {
      const { writer, stdout } = setup({ format });
      await writer.begin(facts);
      const afterBegin = stdout();
      expect(afterBegin).not.toContain("web-1");
      await writer.rows(page1);
      const afterPage1 = stdout();
      expect(afterPage1).toContain("web-1");
      expect(afterPage1).toContain("ledger");
      expect(afterPage1).not.toContain("team-b");
      expect(afterPage1.startsWith(afterBegin)).toBe(true);
      await writer.rows(page2);
      // Later pages only append.
      expect(stdout().startsWith(afterPage1)).toBe(true);
      expect(stdout()).toContain("api");
    },
  );
});

describe("createOutdatedWriter -o text", () => {
  it("header lines, a blank line, the column headers, the rows and the footer", async () => {
    expect(lines(await run({ format: "text" }, [page1, page2]))).toEqual([
      "KubeVirt v1.9.0 (Deployed); its own count of outdated VMIs: 3",
      `current launcher ${current}`,
      "automatic workload updates: off (no workloadUpdateMethods in the KubeVirt CR)",
      "",
      "VM       NODE     LAUNCHER          MIGRATABLE   ACTION",
      "web-1    node-1   v1.8.2 → v1.9.0   yes          migrate",
      "ledger   node-2   v1.8.2 → v1.9.0   no: Disks    restart",
      "api      node-3   v1.8.2 → v1.9.0   yes          migrate",
      "",
      "3 outdated VMIs in namespace apps: 2 to migrate, 1 to restart (downtime)",
    ]);
  });

  it("a NAMESPACE column first with --all-namespaces", async () => {
    const out = lines(
      await run({ format: "text", allNamespaces: true, scope: "in all namespaces" }, [page1, page2]),
    );
    expect(out.slice(4, 8)).toEqual([
      "NAMESPACE   VM       NODE     LAUNCHER          MIGRATABLE   ACTION",
      "apps        web-1    node-1   v1.8.2 → v1.9.0   yes          migrate",
      "apps        ledger   node-2   v1.8.2 → v1.9.0   no: Disks    restart",
      "team-b      api      node-3   v1.8.2 → v1.9.0   yes          migrate",
    ]);
    expect(out.at(-1)).toBe("3 outdated VMIs in all namespaces: 2 to migrate, 1 to restart (downtime)");
  });

  it("no NAMESPACE column without --all-namespaces", async () => {
    const out = await run({ format: "text" }, [page1, page2]);
    expect(out).not.toContain("NAMESPACE");
    expect(out).not.toContain("team-b");
  });

  it("-o wide: IMAGE, CURRENT IMAGE and MESSAGE columns instead of LAUNCHER", async () => {
    const out = lines(await run({ format: "wide" }, [page1]));
    const pad = " ".repeat(current.length - "CURRENT IMAGE".length);
    expect(out.slice(4, 7)).toEqual([
      `VM       NODE     IMAGE${" ".repeat(oldImage.length - 5)}   CURRENT IMAGE${pad}   LIVE-MIGRATABLE              ACTION               MESSAGE`,
      `web-1    node-1   ${oldImage}   ${current}   yes                          migrate`,
      `ledger   node-2   ${oldImage}   ${current}   no: DisksNotLiveMigratable   restart (downtime)   cannot migrate VMI: PVC data is not shared`,
    ]);
    expect(out.join("\n")).not.toContain("LAUNCHER ");
    expect(out.join("\n")).not.toContain("→");
  });

  it("-o wide: unknown images are said so", async () => {
    const out = lines(
      await run({ format: "wide", noHeaders: true }, [[row({ vmi: "x", image: null, currentImage: null })]]),
    );
    expect(out).toEqual(["x   node-1   unknown   unknown   yes   migrate"]);
  });

  it("a standalone VMI shows its VMI name, a VMI without a node <none>", async () => {
    const out = lines(
      await run({ format: "text", noHeaders: true }, [
        [
          row({ vmi: "solo", vm: null, node: null, liveMigratable: null, action: "recreate" }),
          row({ vmi: "moving", action: "wait" }),
        ],
      ]),
    );
    expect(out).toEqual([
      "solo (VMI)   <none>   v1.8.2 → v1.9.0   unknown   recreate",
      "moving       node-1   v1.8.2 → v1.9.0   yes       wait",
    ]);
  });

  it("--no-headers prints the rows only: no header lines, no column names, no footer", async () => {
    expect(lines(await run({ format: "text", noHeaders: true }, [page1, page2]))).toEqual([
      "web-1    node-1   v1.8.2 → v1.9.0   yes         migrate",
      "ledger   node-2   v1.8.2 → v1.9.0   no: Disks   restart",
      "api      node-3   v1.8.2 → v1.9.0   yes         migrate",
    ]);
    expect(await run({ format: "text", noHeaders: true }, [])).toBe("");
  });

  it("a later page lines up with the earlier ones when its cells are not wider", async () => {
    const out = lines(await run({ format: "text" }, [page1, [row({ vmi: "a", node: "n" })]]));
    const header = out[4] ?? "";
    const later = out[7] ?? "";
    expect(later).toBe("a        n        v1.8.2 → v1.9.0   yes          migrate");
    for (const column of ["NODE", "LAUNCHER", "MIGRATABLE", "ACTION"]) {
      const at = header.indexOf(column);
      expect(at).toBeGreaterThan(0);
      // Each later cell starts where its column header does.
      expect(later[at - 1]).toBe(" ");
      expect(later[at]).not.toBe(" ");
    }
  });

  it("a later page with a wider cell widens that column from there on", async () => {
    const wideName = "a-much-longer-vm-name";
    const out = lines(
      await run({ format: "text", noHeaders: true }, [
        [row({ vmi: "web-1" })],
        [row({ vmi: wideName })],
        [row({ vmi: "api" })],
      ]),
    );
    expect(out).toEqual([
      "web-1   node-1   v1.8.2 → v1.9.0   yes   migrate",
      `${wideName}   node-1   v1.8.2 → v1.9.0   yes   migrate`,
      `api${" ".repeat(wideName.length - 3)}   node-1   v1.8.2 → v1.9.0   yes   migrate`,
    ]);
  });

  it("the column headers come once, with the first non-empty page", async () => {
    const out = lines(await run({ format: "text" }, [[], page1, [], page2]));
    expect(out.filter((l) => l.startsWith("VM "))).toHaveLength(1);
    expect(out[4]?.startsWith("VM ")).toBe(true);
    expect(out.filter((l) => /^(web-1|ledger|api) /.test(l))).toHaveLength(3);
  });

  it("nothing outdated: the header lines and the footer, no column headers, no blank line before it", async () => {
    expect(lines(await run({ format: "text" }, []))).toEqual([
      "KubeVirt v1.9.0 (Deployed); its own count of outdated VMIs: 3",
      `current launcher ${current}`,
      "automatic workload updates: off (no workloadUpdateMethods in the KubeVirt CR)",
      "",
      "no VMI runs an outdated virt-launcher in namespace apps",
    ]);
  });

  it("no trailing spaces on any line", async () => {
    for (const format of ["text", "wide"] as const) {
      for (const line of lines(await run({ format, allNamespaces: true }, [page1, page2])))
        expect(line).toBe(line.trimEnd());
    }
  });

  it("fits an 80-column terminal: typical rows whole, a longer line cut with an ellipsis; -o wide never cut", async () => {
    const typical = [
      row({
        vmi: "legacy-bridge",
        namespace: "team-b",
        reason: "InterfaceNotLiveMigratable",
        liveMigratable: false,
        action: "restart",
      }),
      row({ vmi: "worker-1", namespace: "apps" }),
    ];
    const long = row({
      vmi: "a-very-long-virtual-machine-name-for-the-analytics-team",
      namespace: "data-platform-prod",
    });
    const render = async (format: "text" | "wide", rows: OutdatedRow[]) => {
      const buffers = bufferedStreams({ tty: true, columns: 80 });
      const io = createIO(buffers.streams, { HOME: "/nonexistent", NO_COLOR: "1" });
      const writer = createOutdatedWriter(io, { format, allNamespaces: true, scope: "x", noHeaders: true });
      await writer.rows(rows);
      return lines(buffers.stdout());
    };
    const whole = await render("text", typical);
    expect(whole[0]).toBe("team-b   legacy-bridge   node-1   v1.8.2 → v1.9.0   no: Interface   restart");
    for (const line of whole) expect(line.length).toBeLessThanOrEqual(79);
    const cut = await render("text", [long]);
    expect(cut[0]).toHaveLength(79);
    expect(cut[0]?.endsWith("…")).toBe(true);
    const wide = await render("wide", [long]);
    expect(wide[0]?.length).toBeGreaterThan(80);
    expect(wide[0]).toContain("a-very-long-virtual-machine-name-for-the-analytics-team");
  });

  it("colours on a terminal do not throw the columns off", async () => {
    const buffers = bufferedStreams({ tty: true });
    const io = createIO(buffers.streams, { HOME: "/nonexistent" });
    const writer = createOutdatedWriter(io, {
      format: "text",
      allNamespaces: false,
      scope: "x",
      noHeaders: true,
    });
    await writer.rows(page1);
    const raw = buffers.stdout();
    expect(raw).toContain("\u001B[");
    expect(lines(stripVTControlCharacters(raw))).toEqual([
      "web-1    node-1   v1.8.2 → v1.9.0   yes         migrate",
      "ledger   node-2   v1.8.2 → v1.9.0   no: Disks   restart",
    ]);
  });
});
