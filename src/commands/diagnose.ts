// kvmig diagnose VM: gathers everything about the VM's migrations once (live, or from a
// directory), runs every failure-mode rule over it, and prints the findings with their
// evidence and fix. The diagnose modules load on first use, so `kvmig --help` stays fast.

import type { DiagnoseCliOptions } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import type { DiagnoseReport, FailOn } from "../diagnose/engine.js";
import type { Snapshot } from "../diagnose/types.js";
import { ProblemsFoundError, UsageError } from "../errors.js";
import { writeData } from "../io/output.js";
import { formatTime, timeStyleFor } from "../io/time.js";
import { wrapperFor } from "../io/wrap.js";
import { vmOrPick } from "../render/vm-picker.js";

export interface DiagnoseOptions {
  vmName?: string | undefined;
  /** Diagnose offline from this directory instead of the cluster. */
  from?: string | undefined;
  /** Also write the gathered snapshot to this directory. */
  dump?: string | undefined;
  only?: string[] | undefined;
  skip?: string[] | undefined;
  failOn: FailOn;
}

export interface Diagnosis {
  snapshot: Snapshot;
  report: DiagnoseReport;
  /** How many rules ran (after --only/--skip). */
  rulesRun: number;
}

export async function runDiagnose(options: DiagnoseOptions, ctx: CommandContext): Promise<Diagnosis> {
  const [{ runRules }, { selectRules }] = await Promise.all([
    import("../diagnose/engine.js"),
    import("../diagnose/registry.js"),
  ]);
  // Unknown ids fail before anything is read.
  const rules = selectRules({ only: options.only, skip: options.skip });
  let snapshot: Snapshot;
  if (options.from !== undefined) {
    if (options.dump !== undefined) {
      throw new UsageError("--dump cannot be combined with --from", {
        hint: "--from already reads a saved directory; copy that directory instead",
      });
    }
    const { loadSnapshotFromDir } = await import("../diagnose/offline.js");
    snapshot = await loadSnapshotFromDir(options.from, {
      vmName: options.vmName,
      namespace: ctx.options.namespace,
    });
  } else {
    // Without a terminal a missing VM is a usage error before anything is read.
    const vmName = await vmOrPick(ctx, options.vmName, "diagnose");
    const kube = await ctx.kube();
    const namespace = kube.namespace;
    // A --dump directory that would mix two dumps is refused before anything is gathered.
    const dumpTo = options.dump;
    const dump = dumpTo !== undefined ? await import("../diagnose/dump.js") : undefined;
    if (dump && dumpTo !== undefined) await dump.checkDumpDir(dumpTo, namespace, vmName);
    const { gatherSnapshot } = await import("../diagnose/gather.js");
    snapshot = await gatherSnapshot(kube, { namespace, vmName }, new Date(ctx.clock.now()).toISOString());
    if (dump && dumpTo !== undefined) {
      const files = await dump.dumpSnapshot(dumpTo, snapshot);
      ctx.io.err(`wrote ${files.length} files to ${options.dump} (secrets and tokens left out)`);
    }
  }
  return { snapshot, report: runRules(snapshot, rules), rulesRun: rules.length };
}

/** The action of `kvmig diagnose` (cli-tree/tree.ts): runDiagnose, the findings printed, and exit 7 at --fail-on. */
export async function diagnoseAction(
  vm: string | undefined,
  flags: DiagnoseCliOptions,
  ctx: CommandContext,
): Promise<void> {
  const { parseRuleIds } = await import("../diagnose/registry.js");
  const diagnosis = await runDiagnose(
    {
      vmName: vm,
      from: flags.from,
      dump: flags.dump,
      only: parseRuleIds(flags.only),
      skip: parseRuleIds(flags.skip),
      failOn: flags.failOn,
    },
    ctx,
  );
  await writeData(ctx.io, ctx.io.mode, diagnosis.report, async () => {
    const { formatDiagnosis } = await import("../diagnose/render.js");
    const style = timeStyleFor(ctx.io.stdoutIsTTY);
    const time = (iso: string) => formatTime(iso, style, ctx.clock.now());
    const lines = formatDiagnosis(
      diagnosis.report,
      diagnosis.snapshot,
      { ...diagnosis, time, wrap: wrapperFor(ctx.io.stdoutIsTTY ? ctx.io.columns : undefined) },
      ctx.io.colors,
    );
    for (const line of lines) ctx.io.out(line);
  });
  const { findingsAtOrAbove } = await import("../diagnose/engine.js");
  const serious = findingsAtOrAbove(diagnosis.report, flags.failOn);
  if (serious.length > 0) {
    const n = serious.length;
    throw new ProblemsFoundError(
      `${n} finding${n === 1 ? "" : "s"} at or above --fail-on ${flags.failOn} (${[...new Set(serious.map((f) => f.id))].join(", ")})`,
      { hint: "each finding above says what to do; --fail-on never makes this exit 0" },
    );
  }
}
