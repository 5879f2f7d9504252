// kvmig history [VM]: where a VM has been and how each move went, newest first, merged from the
// VMIMs KubeVirt keeps, the VMI's migrationState, the events the API server keeps and, with
// --prometheus-url, KubeVirt's migration metrics over --since (operations/read-history.ts,
// rendered by render/history.ts). With -A, -l or --node, the migrations of every VM in scope.

import type { HistoryOptions } from "../cli-tree/options.js";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import { objectName, writeData } from "../io/output.js";
import { readHistory } from "../operations/read-history.js";
import { renderHistory } from "../render/history.js";
import { vmOrPick } from "../render/vm-picker.js";

const day = 86_400_000;

/** --since: kubectl's durations (90s, 5m, 1h30m) and days and weeks (7d, 2w, 1d12h). */
export function parseSince(text: string): number {
  const match = /^\s*(?:(\d+)w)?(?:(\d+)d)?(.*?)\s*$/.exec(text);
  const weeks = Number(match?.[1] ?? 0);
  const days = Number(match?.[2] ?? 0);
  const rest = match?.[3] ?? "";
  const bad = () =>
    new UsageError(`invalid duration "${text}" for --since`, {
      hint: "write it like 7d, 2w, 36h or 1d12h",
    });
  if (!match || (rest === "" && match[1] === undefined && match[2] === undefined)) throw bad();
  let ms = (weeks * 7 + days) * day;
  if (rest !== "") {
    try {
      ms += parseDuration(rest, "--since");
    } catch {
      throw bad();
    }
  }
  if (ms <= 0) throw bad();
  return ms;
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < 1) {
    throw new UsageError(`--limit must be a whole number from 1, not "${text}"`, {
      hint: "for example --limit 10 for the ten newest migrations",
    });
  }
  return value;
}

/** The action of `kvmig history` (cli-tree/tree.ts). */
export async function historyAction(
  vmArg: string | undefined,
  options: HistoryOptions,
  ctx: CommandContext,
): Promise<void> {
  const sinceMs = parseSince(options.since);
  const limit = parseLimit(options.limit);
  const many = options.allNamespaces || options.selector !== undefined || options.node !== undefined;
  if (vmArg !== undefined && (options.allNamespaces || options.selector !== undefined)) {
    throw new UsageError("a VM name cannot be combined with -A or -l", {
      hint: "name one VM (with -n), or leave it out for the migrations of every VM in scope",
    });
  }
  // Without a VM and without a scope flag: on a terminal, pick the VM from a list.
  const vm = vmArg !== undefined || !many ? await vmOrPick(ctx, vmArg, "history") : undefined;
  const kube = await ctx.kube();
  const result = await readHistory(kube, {
    namespace: options.allNamespaces ? undefined : kube.namespace,
    vm,
    selector: options.selector,
    node: options.node,
    prometheusUrl: options.prometheusUrl,
    sinceMs,
    limit,
    now: ctx.clock.now(),
    signal: ctx.signal,
  });
  const { omitted: _omitted, ...data } = result;
  await writeData(
    ctx.io,
    ctx.io.mode,
    data,
    () => renderHistory(result, ctx, ctx.options.output === "wide"),
    (d) => d.items.map((item) => objectName("vmim", item.migration)),
  );
}
