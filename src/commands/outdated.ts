// kvmig outdated: the VMIs still on an outdated virt-launcher (operations/list-outdated.ts: the
// label virt-controller sets, and with --check an image that differs from virt-controller's
// --launcher-image), read page by page and printed as they arrive, under a header with the
// KubeVirt versions and whether KubeVirt updates workloads by itself. --migrate and --restart
// cycle them (operations/bulk.ts), after one question on a terminal: the restarts cost
// downtime, so declining changes nothing.

import { type OutdatedOptions, outdatedDefaults } from "../cli-tree/options.js";
import type { CommandContext, GlobalOptions } from "../context.js";
import { parseDuration } from "../duration.js";
import { InterruptedError, UsageError } from "../errors.js";
import { clusterName, type KubeClient } from "../k8s/kube-client.js";
import { requireNamespace } from "../k8s/namespace.js";
import type { KubeVirt } from "../k8s/types.js";
import {
  type BulkOutcome,
  checkAccess,
  type Job,
  migrationCapacity,
  resultCounts,
  runBulk,
  migrationSlots as slotsFor,
} from "../operations/bulk.js";
import { parseMaxFailures } from "../operations/failure-limit.js";
import { listOutdated, readLauncherFacts } from "../operations/list-outdated.js";
import { createOutdatedWriter, fitTable, type OutdatedFormat } from "../outdated/output.js";
import { actionText, clusterFacts, countRow, emptyCounts, type OutdatedRow } from "../outdated/rows.js";
import { bulkScreen, outcomeError, summaryTable } from "../render/bulk.js";
import { plural } from "../util/words.js";

export interface OutdatedFlags {
  allNamespaces: boolean;
  selector?: string | undefined;
  check: boolean;
  migrate: boolean;
  restart: boolean;
  yes: boolean;
  concurrency: number;
  /** --max-failures: 0 for no limit, undefined for the default (failure-limit.ts). */
  maxFailures: number | undefined;
  /** --timeout as given (for the command that goes on), and in milliseconds. */
  timeout: string;
  timeoutMs: number;
  noHeaders: boolean;
}

export function parseConcurrency(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`invalid --concurrency "${text}"`, {
      hint: "give a whole number of at least 1, e.g. --concurrency 3",
    });
  }
  return value;
}

/** The bulk job of a row: a migration or a restart of its VM (a standalone VMI is named by the VMI). */
export function jobOf(row: OutdatedRow): Job | undefined {
  if (row.action !== "migrate" && row.action !== "restart") return undefined;
  return {
    namespace: row.namespace,
    name: row.vm ?? row.vmi,
    vmi: row.vmi,
    standalone: row.vm === null,
    action: row.action,
    node: row.node,
  };
}

/** The answer to "migrate N and restart M?" when both flags were given. */
export type BothAnswer = "both" | "migrations" | "nothing";

function declined(): InterruptedError {
  return new InterruptedError("declined; nothing was migrated or restarted");
}

/**
 * The jobs to run: on a terminal, those ticked in a checkbox; then, when restarts are among them
 * and --yes was not given, one question. With migrations too it offers both, the migrations
 * only, or nothing (the default); declining is exit 130 with nothing started. Without a terminal
 * the question is a usage error naming --yes. Each question names the cluster (`cluster`, as
 * clusterName() words it), so that nobody confirms a bulk change on the wrong one.
 */
export async function chooseJobs(
  ctx: CommandContext,
  flags: OutdatedFlags,
  candidates: Job[],
  cluster: string,
): Promise<Job[]> {
  let chosen = candidates;
  if (!flags.yes && ctx.prompter.interactive && candidates.length > 0) {
    chosen = await ctx.prompter.checkbox({
      message: `Which VMs on ${cluster}? (space toggles, enter starts)`,
      flag: "--yes",
      choices: candidates.map((job) => ({
        name: `${job.namespace}/${job.name}  ${actionText(job.action)}  on ${job.node ?? "?"}`,
        value: job,
        checked: true,
      })),
    });
  }
  const restarts = chosen.filter((job) => job.action === "restart");
  if (restarts.length === 0 || flags.yes) return chosen;
  const migrations = chosen.filter((job) => job.action === "migrate");
  const names = restarts.map((job) => `${job.namespace}/${job.name}`);
  const shown =
    names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
  const restartText = `${plural(restarts.length, "VM")} with downtime (${shown})`;
  if (migrations.length === 0) {
    const ok = await ctx.prompter.confirm({
      message: `Restart ${restartText} on ${cluster}?`,
      flag: "--yes",
      default: false,
    });
    if (!ok) throw declined();
    return chosen;
  }
  const answer = await ctx.prompter.select<BothAnswer>({
    message: `Migrate ${plural(migrations.length, "VM")} live and restart ${restartText} on ${cluster}?`,
    flag: "--yes",
    choices: [
      {
        name: `Both: migrate ${migrations.length} and restart ${restarts.length} (downtime)`,
        value: "both",
      },
      { name: `Migrations only: migrate ${migrations.length}, restart none`, value: "migrations" },
      { name: "Nothing: change nothing", value: "nothing" },
    ],
    default: "nothing",
  });
  if (answer === "nothing") throw declined();
  return answer === "migrations" ? migrations : chosen;
}

/**
 * The command the user gave, rebuilt from the parsed flags (normalised, defaults left out), so
 * that running it again goes on with what is still outdated: the same scope, selection, actions,
 * limits and output. `--yes` only when the user gave it.
 */
export function againWords(
  flags: OutdatedFlags,
  scope: readonly string[],
  output: GlobalOptions["output"],
): string[] {
  const selector = flags.selector?.trim();
  return [
    "outdated",
    ...scope,
    ...(selector ? ["-l", selector] : []),
    ...(flags.check ? ["--check"] : []),
    ...(flags.migrate ? ["--migrate"] : []),
    ...(flags.restart ? ["--restart"] : []),
    ...(flags.yes ? ["--yes"] : []),
    ...(String(flags.concurrency) !== outdatedDefaults.concurrency
      ? ["--concurrency", String(flags.concurrency)]
      : []),
    ...(flags.maxFailures !== undefined ? ["--max-failures", String(flags.maxFailures)] : []),
    ...(flags.timeout !== outdatedDefaults.timeout ? ["--timeout", flags.timeout] : []),
    ...(flags.noHeaders ? ["--no-headers"] : []),
    ...(output !== "text" ? ["-o", output] : []),
  ];
}

export async function runOutdated(flags: OutdatedFlags, ctx: CommandContext): Promise<void> {
  const kube = await ctx.kube();
  const namespace = flags.allNamespaces ? undefined : kube.namespace;
  if (namespace !== undefined) await requireNamespace(kube, namespace);
  const scope = namespace === undefined ? "in all namespaces" : `in namespace ${namespace}`;
  const format: OutdatedFormat = ctx.options.output === "wide" ? "wide" : ctx.io.mode;
  const acting = flags.migrate || flags.restart;
  const { kubevirt, current } = await readLauncherFacts(kube);
  if (flags.check && current === undefined) {
    ctx.io.err(
      "note: --check cannot read the current launcher image (virt-controller's --launcher-image); listing by the label only",
    );
  }
  const writer = createOutdatedWriter(ctx.io, {
    format,
    allNamespaces: flags.allNamespaces,
    noHeaders: flags.noHeaders,
    scope,
  });
  // The header goes out with the first page, so that a refused list (a bad selector, no
  // permission) prints only the error.
  let begun = false;
  const begin = async () => {
    if (!begun) await writer.begin(clusterFacts(kubevirt, current));
    begun = true;
  };

  const counts = emptyCounts();
  const candidates: Job[] = [];
  const wanted = new Set([...(flags.migrate ? ["migrate"] : []), ...(flags.restart ? ["restart"] : [])]);
  // Each VMI is looked at as it arrives and dropped; the rows of a page (the outdated ones only,
  // a few fields each) are written when the page is complete.
  let rows: OutdatedRow[] = [];
  for await (const piece of listOutdated(kube, {
    namespace,
    selector: flags.selector,
    check: flags.check,
    current,
    signal: ctx.signal,
  })) {
    for (const row of piece.rows) {
      countRow(counts, row);
      rows.push(row);
      if (acting && wanted.has(row.action)) {
        const job = jobOf(row);
        if (job) candidates.push(job);
      }
    }
    if (!piece.pageEnd) continue;
    await begin();
    await writer.rows(rows);
    rows = [];
  }
  await begin();
  await writer.listed(counts);
  if (!acting) {
    await writer.end({ counts });
    return;
  }

  // The document ends even when acting stops early (a refusal, a missing permission).
  let outcome: BulkOutcome = { results: [], interrupted: false, stopped: undefined };
  try {
    outcome = await act(kube, ctx, flags, { candidates, wanted, kubevirt, current });
  } finally {
    await writer.end({ counts, results: outcome.results });
  }
  const { results } = outcome;
  if (ctx.io.mode === "text" && results.length > 0) {
    const r = resultCounts(results);
    ctx.io.out("");
    ctx.io.out(fitTable(ctx.io, summaryTable(results, flags.allNamespaces), format));
    ctx.io.out("");
    ctx.io.out(
      `${r.succeeded} succeeded, ${r.failed} failed, ${r.timeout} timed out, ${r.skipped} not started`,
    );
  }
  const where = flags.allNamespaces ? ["-A"] : ["-n", kube.namespace];
  const error = outcomeError(results, outcome, {
    scope: where,
    again: againWords(flags, where, ctx.options.output),
  });
  if (error) throw error;
}

interface ActInput {
  candidates: Job[];
  wanted: ReadonlySet<string>;
  kubevirt: KubeVirt | undefined;
  current: string | undefined;
}

/** Picks the jobs, checks the permissions and the free slots, and runs them. */
async function act(
  kube: KubeClient,
  ctx: CommandContext,
  flags: OutdatedFlags,
  input: ActInput,
): Promise<BulkOutcome> {
  const text = ctx.io.mode === "text";
  const jobs = await chooseJobs(ctx, flags, input.candidates, clusterName(kube));
  if (jobs.length === 0) {
    if (text) ctx.io.err(`nothing to ${[...input.wanted].join(" or ")}`);
    return { results: [], interrupted: false, stopped: undefined };
  }
  await checkAccess(kube, jobs);
  const migrations = jobs.filter((job) => job.action === "migrate").length;
  const slots = await migrationCapacity(kube, input.kubevirt);
  const migrationSlots = slotsFor(flags.concurrency, slots);
  if (migrations > 0 && migrationSlots < Math.min(flags.concurrency, migrations) && text) {
    ctx.io.err(
      `note: at most ${migrationSlots} migration${migrationSlots === 1 ? "" : "s"} at a time: the cluster runs ${slots.limit} in parallel (parallelMigrationsPerCluster) and ${slots.busy} ${slots.busy === 1 ? "is" : "are"} under way`,
    );
  }
  // Only migrations take slots: restarts may fill the rest of --concurrency.
  const atATime =
    migrations === jobs.length ? Math.min(flags.concurrency, migrationSlots) : flags.concurrency;
  if (text) {
    ctx.io.err(
      `cycling ${jobs.length} VM${jobs.length === 1 ? "" : "s"} (${migrations} to migrate, ${jobs.length - migrations} to restart), ${atATime} at a time`,
    );
  }
  const screen = bulkScreen(ctx, kube, jobs.length);
  try {
    return await runBulk(
      kube,
      jobs,
      {
        concurrency: flags.concurrency,
        migrationSlots,
        timeoutMs: flags.timeoutMs,
        currentImage: input.current,
        maxFailures: flags.maxFailures,
        clock: ctx.clock,
        signal: ctx.signal,
        debug: ctx.debug,
        outage: screen.outage,
      },
      screen.observer,
    );
  } finally {
    await screen.stop();
  }
}

/** The action of `kvmig outdated` (cli-tree/tree.ts): the flags parsed, then runOutdated. */
export async function outdatedAction(options: OutdatedOptions, ctx: CommandContext): Promise<void> {
  await runOutdated(
    {
      allNamespaces: options.allNamespaces,
      selector: options.selector,
      check: options.check,
      migrate: options.migrate,
      restart: options.restart,
      yes: options.yes,
      concurrency: parseConcurrency(options.concurrency),
      maxFailures: options.maxFailures === undefined ? undefined : parseMaxFailures(options.maxFailures),
      timeout: options.timeout,
      timeoutMs: parseDuration(options.timeout, "--timeout"),
      noHeaders: !options.headers,
    },
    ctx,
  );
}
