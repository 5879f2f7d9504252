// The commands as commander sees them: name, arguments, flags and help. Each action imports its
// command's module (src/commands/) on first use, so `kvmig --help`, `kvmig --version` and a
// completion parse this skeleton and not the code (and dependencies) of every command. The
// commands import nothing from here: the parsed flags' types live in options.ts, which both use.

import { Command, Option } from "@commander-js/extra-typings";
import { UsageError } from "../errors.js";
import { aliases, examples, type Runner } from "./command.js";
import {
  type CancelOptions,
  type DiagnoseCliOptions,
  type DryRunMode,
  type EvacuateOptions,
  type HistoryOptions,
  type MigrateOptions,
  type OutdatedOptions,
  outdatedDefaults,
  type RestartOptions,
  type SimCliOptions,
  type WatchOptions,
} from "./options.js";

/** The parsed flags of a command built here, as commander infers them. */
type OptionsOf<T> = T extends { opts(): infer O } ? O : never;
/** Compiles only when A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function sameOptions<_ extends true>(): void {}
// options.ts says what the commands receive; these say it is exactly what the flags give.
sameOptions<Same<OptionsOf<ReturnType<typeof migrateCommand>>, MigrateOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof watchCommand>>, WatchOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof cancelCommand>>, CancelOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof restartCommand>>, RestartOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof outdatedCommand>>, OutdatedOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof diagnoseCommand>>, DiagnoseCliOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof historyCommand>>, HistoryOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof simCommand>>, SimCliOptions>>();
sameOptions<Same<OptionsOf<ReturnType<typeof evacuateCommand>>, EvacuateOptions>>();

const dryRunModes = ["server", "client", "none"] as const;

/** kubectl's --dry-run values; `true` and `false`, pflag's words for the old boolean flag, mean bare and none. */
function parseDryRun(value: string): DryRunMode {
  if ((dryRunModes as readonly string[]).includes(value)) return value as DryRunMode;
  if (value === "true") return "server";
  if (value === "false") return "none";
  throw new UsageError(`invalid --dry-run value "${value}": must be "none", "server" or "client"`, {
    hint: "write --dry-run=server (the same as a bare --dry-run), --dry-run=client or --dry-run=none",
  });
}

/**
 * `--dry-run[=MODE]` as kubectl spells it. The value is only ever attached (argv.ts turns a bare
 * --dry-run into --dry-run=server, kvmig's --dry-run before it took a value), so `--dry-run VM`
 * never takes the VM for a mode.
 */
function dryRunOption(what: string, server: string, client: string) {
  return Object.assign(
    new Option(
      "--dry-run [mode]",
      `${what}; server (a bare --dry-run): ${server}; client: ${client}; none: not a dry run`,
    )
      .choices(dryRunModes)
      .argParser(parseDryRun)
      .preset("server")
      .default("none" as DryRunMode),
    { flags: "--dry-run[=MODE]" },
  );
}

function timeoutOption() {
  return new Option(
    "--timeout <duration>",
    "how long to follow before giving up (the migration goes on), e.g. 15m; 0, or over 24 days, for no limit",
  ).default("15m");
}

function prometheusOption() {
  return new Option(
    "--prometheus-url <url>",
    "read progress from this Prometheus instead of the launcher log",
  ).env("KVMIG_PROMETHEUS_URL");
}

export function migrateCommand(run: Runner, programName: string) {
  return new Command("migrate")
    .description("Live-migrate a VM: check it can move, start the migration, and follow it to the end")
    .argument(
      "[vm]",
      "the VirtualMachine (or standalone VirtualMachineInstance) to move; on a terminal, omit it to choose from a list",
    )
    .option(
      "--target-node <node>",
      "migrate to this node (adds the node selector kubernetes.io/hostname=NODE)",
    )
    .option("--node-selector <selector>", "only to nodes with these labels, e.g. zone=a,disk=ssd")
    .option("--addedNodeSelector <selector>", "virtctl's spelling of --node-selector (key=value[,key=value])")
    .addOption(
      dryRunOption(
        "check that the VM could move and change nothing",
        "the pre-flight checks and the API server's dry run of the migration",
        "the pre-flight checks only, which read and send nothing that could change anything",
      ),
    )
    .option("--force", "start even when a pre-flight check says error", false)
    .option("--no-wait", "start the migration and return without following it")
    .addOption(timeoutOption())
    .addOption(prometheusOption())
    .addHelpText(
      "after",
      examples(
        [
          ["migrate fedora-web -n demo", "move a VM off its node and follow it to the end"],
          ["migrate rhel-db -n demo --target-node node-3", "move it to one node"],
          ["migrate rhel-db -n demo --dry-run", "only check that it could move"],
          [
            "migrate rhel-db -n demo --no-wait -o name",
            "start it and print its name (-o name: virtualmachineinstancemigration.kubevirt.io/NAME)",
          ],
          ["migrate fedora-web -n demo --sim", "try it on the embedded simulated cluster"],
        ],
        programName,
      ),
    )
    .action(
      (vmArg, options): Promise<void> =>
        run(async (ctx) => (await import("../commands/migrate.js")).migrateAction(vmArg, options, ctx), {
          names: true,
        }),
    );
}

export function watchCommand(run: Runner, programName: string) {
  return new Command("watch")
    .description("Follow migrations live: one VM's current migration, or every migration in scope")
    .argument("[vm]", "follow this VM's current (or latest) migration")
    .option("-A, --all-namespaces", "every namespace", false)
    .option("-l, --selector <selector>", "only migrations with these labels, e.g. kubevirt.io/vmi-name=db-1")
    .option(
      "--node <node>",
      "only migrations from or to this node, in every namespace unless -n is given (a drain someone else started)",
    )
    .option("--exit-on-done", "return once no migration is in flight", false)
    .option("--pick", "choose the VM to follow from a list of the namespace's VMs (on a terminal)", false)
    .option("--no-headers", "the table without its column names")
    .option(
      "--timeout <duration>",
      "stop following after this long (the migration goes on); 0, or over 24 days, for no limit",
      "0",
    )
    .addOption(prometheusOption())
    .addHelpText(
      "after",
      examples(
        [
          ["watch -A", "every migration in the cluster, live"],
          ["watch fedora-web -n demo", "one VM's migration with its events"],
          ["watch --pick -n demo", "choose the VM from a list, then follow it"],
          ["watch -n demo -o json --exit-on-done", "NDJSON until nothing is in flight"],
          ["watch -A -o wide", "the table with each migration's name and start time"],
          ["watch --node node-1", "every migration leaving or reaching node-1 (a drain)"],
        ],
        programName,
      ),
    )
    .action(
      (vmArg, options): Promise<void> =>
        run(async (ctx) => (await import("../commands/watch.js")).watchAction(vmArg, options, ctx), {
          wide: true,
          names: true,
        }),
    );
}

export function cancelCommand(run: Runner, programName: string) {
  return new Command("cancel")
    .alias("migrate-cancel")
    .description(
      "Abort a VM's unfinished migration and report whether it stayed on its source node (virtctl's name: migrate-cancel)",
    )
    .argument(
      "[vm]",
      "the VM whose migration to cancel; on a terminal, omit it to choose from the VMs that are migrating",
    )
    .option("-y, --yes", "do not ask for confirmation", false)
    .addOption(
      dryRunOption(
        "show what would be deleted and change nothing",
        "the API server's dry run of the deletion",
        "only read the migration; nothing is sent that could change anything",
      ),
    )
    .option("--no-wait", "request the abort and return without waiting for the outcome")
    .option(
      "--timeout <duration>",
      "how long to wait for the outcome, e.g. 5m; 0, or over 24 days, for no limit",
      "5m",
    )
    .addHelpText(
      "after",
      aliases(["cancel", "migrate-cancel"]) +
        examples(
          [
            ["cancel rhel-db -n demo", "abort the migration after confirming"],
            ["cancel rhel-db -n demo --yes -o json", "in a script, with the outcome as JSON"],
          ],
          programName,
        ),
    )
    .action(
      (vmArg, options): Promise<void> =>
        run(async (ctx) => (await import("../commands/cancel.js")).cancelAction(vmArg, options, ctx), {
          names: true,
        }),
    );
}

export function restartCommand(run: Runner, programName: string) {
  return new Command("restart")
    .description("Restart a VM (cold migration, with downtime) when live migration is the wrong tool")
    .argument("[vm]", "the VirtualMachine to restart; on a terminal, omit it to choose from a list")
    .option("-y, --yes", "do not ask for confirmation (needed without a terminal)", false)
    .option("--force", "stop the guest at once (grace period 0); unsaved data may be lost", false)
    .addOption(
      new Option(
        "--grace-period <seconds>",
        "virtctl's flag: the grace period sent with the restart, in seconds; -1 sends none (the VMI's own), 0 is --force (KubeVirt takes only 0 today and refuses others before anything changes)",
      )
        .default(-1)
        .argParser(parseGracePeriod),
    )
    .addOption(
      dryRunOption(
        "check the restart and change nothing",
        "the API server's dry run of the restart",
        "only read the VM and show the warning; the API server's check is not asked either",
      ),
    )
    .option("--no-wait", "request the restart and return without waiting for the new VMI")
    .option(
      "--timeout <duration>",
      "how long to wait for the new VMI to run, e.g. 5m; 0, or over 24 days, for no limit",
      "10m",
    )
    .addHelpText(
      "after",
      examples(
        [
          ["restart cirros-test -n demo", "restart after confirming; reports the downtime"],
          ["restart cirros-test -n demo --yes -o json", "in a script, with the result as JSON"],
          ["restart cirros-test -n demo --dry-run", "only check that the server would accept it"],
          ["restart cirros-test -n demo --grace-period 0 --yes", "virtctl's spelling of --force"],
        ],
        programName,
      ),
    )
    .action(
      (vmArg, options): Promise<void> =>
        run(async (ctx) => (await import("../commands/restart.js")).restartAction(vmArg, options, ctx), {
          names: true,
        }),
    );
}

export function outdatedCommand(run: Runner, programName: string) {
  return new Command("outdated")
    .description("List the VMs still on an outdated virt-launcher, and cycle them (migrate or restart)")
    .option("-A, --all-namespaces", "in every namespace", false)
    .option("-l, --selector <selector>", "only VMIs with these labels, e.g. app=web,tier!=db")
    .option("--check", "also compare each VMI's launcher image with the current one (reads every VMI)", false)
    .option("--migrate", "live-migrate the live-migratable ones onto the current launcher", false)
    .option(
      "--restart",
      "restart the others (downtime; asks first unless --yes, and declining changes nothing)",
      false,
    )
    .option(
      "-y, --yes",
      "act on every listed VM without asking (needed for --restart without a terminal)",
      false,
    )
    .option(
      "--concurrency <n>",
      "how many VMs to cycle at once (never more migrations than the cluster's free slots)",
      outdatedDefaults.concurrency,
    )
    .option(
      "--max-failures <n>",
      "start no new VM after this many failures (those running are followed to their end); default 1 when every failure has the same cause diagnose names, else 3; 0 for no limit",
    )
    .option(
      "--timeout <duration>",
      "how long to follow each VM, e.g. 15m; 0, or over 24 days, for no limit",
      outdatedDefaults.timeout,
    )
    .option("--no-headers", "no header, column names or totals: just the rows")
    .addHelpText(
      "after",
      examples(
        [
          ["outdated -A", "every VMI still on an outdated virt-launcher"],
          ["outdated -A --check -o wide", "also compare the images, with the full image names"],
          [
            "outdated -A -o name",
            "the VMIs, as virtualmachineinstance.kubevirt.io/NAME lines (kubectl's -o name)",
          ],
          [
            `outdated -A -o jsonpath='{range .items[*]}{.namespace}/{.vmi}{"\\n"}{end}'`,
            "namespace/name of each, with kubectl's JSONPath on the -o json document",
          ],
          ["outdated -n prod --migrate", "pick which ones to live-migrate"],
          ["outdated -A --migrate --restart --yes --concurrency 3", "cycle them all in a script"],
        ],
        programName,
      ),
    )
    .action(
      (options): Promise<void> =>
        run(async (ctx) => (await import("../commands/outdated.js")).outdatedAction(options, ctx), {
          wide: true,
          names: true,
          finishOnInterrupt: true,
        }),
    );
}

export function evacuateCommand(run: Runner, programName: string) {
  return new Command("evacuate")
    .description(
      "Empty a node for maintenance: cordon it and follow KubeVirt's evacuation of every VM, with a plan first",
    )
    .argument("[node]", "the node to empty; on a terminal, omit it to choose from a list")
    .addOption(
      dryRunOption(
        "show the plan (VMs, room on the other nodes, limits, estimate) and change nothing",
        "the plan; with --cancel, the API server's dry run of each request",
        "the plan; with --cancel, what would be cancelled, with nothing sent",
      ),
    )
    .option("-y, --yes", "do not ask for confirmation (needed without a terminal)", false)
    .option("--force", "go on when the plan says error (e.g. not enough room on the other nodes)", false)
    .option(
      "--restart",
      "restart the VMs that cannot live-migrate (downtime) so that they start on another node",
      false,
    )
    .option(
      "--cancel",
      "stop the node's evacuation: clear the VMs' evacuation, delete the migrations that have not started, uncordon the node if kvmig cordoned it",
      false,
    )
    .option(
      "--timeout <duration>",
      "how long to follow the evacuation, e.g. 2h (it goes on after); 0, or over 24 days, for no limit",
      "0",
    )
    .addHelpText(
      "after",
      examples(
        [
          ["evacuate node-1 --dry-run", "the plan: what would move where, and what cannot"],
          ["evacuate node-1", "cordon node-1 and move its VMs off, followed VM by VM"],
          ["evacuate node-1 --restart --yes", "also restart the VMs that cannot live-migrate"],
          ["evacuate node-1 --cancel", "stop the evacuation and uncordon the node"],
          [
            "evacuate node-1 --dry-run -o name",
            "-o name names the node (node/node-1), as kubectl drain does",
          ],
        ],
        programName,
      ),
    )
    .action(
      (nodeArg, options): Promise<void> =>
        run(async (ctx) => (await import("../commands/evacuate.js")).evacuateAction(nodeArg, options, ctx), {
          names: true,
          finishOnInterrupt: true,
        }),
    );
}

export function historyCommand(run: Runner, programName: string) {
  return new Command("history")
    .description("Where a VM has been: its past migrations, newest first, with trigger, route and outcome")
    .argument("[vm]", "the VM whose migrations to list; on a terminal, omit it to choose from a list")
    .option("-A, --all-namespaces", "the migrations of every VM in every namespace", false)
    .option("-l, --selector <selector>", "only VMs whose VMI has these labels, e.g. app=db")
    .option("--node <node>", "only migrations from or to this node (of every VM in scope)")
    .option("--since <duration>", "how far back, e.g. 7d, 36h, 2w", "7d")
    .option("--limit <n>", "at most this many rows, the newest (the summary counts them all)")
    .addOption(
      new Option(
        "--prometheus-url <url>",
        "also read KubeVirt's migration metrics from this Prometheus, to reach back beyond the five migrations KubeVirt keeps",
      ).env("KVMIG_PROMETHEUS_URL"),
    )
    .addHelpText(
      "after",
      examples(
        [
          ["history ledger -n finance", "ledger's migrations the cluster still knows about"],
          [
            "history ledger -n finance --prometheus-url http://prometheus:9090",
            "the last 7 days, also those KubeVirt no longer keeps",
          ],
          ["history -A --node node-3 --since 2d", "every move from or to node-3 in two days"],
          ["history ledger -n finance -o json", "the rows and the summary as JSON"],
        ],
        programName,
      ),
    )
    .action(
      (vmArg, options): Promise<void> =>
        run(async (ctx) => (await import("../commands/history.js")).historyAction(vmArg, options, ctx), {
          wide: true,
          names: true,
        }),
    );
}

export function versionCommand(run: Runner, programName: string) {
  return new Command("version")
    .description("Print the kvmig, Kubernetes and KubeVirt versions")
    .addHelpText(
      "after",
      examples(
        [
          ["version", "the three versions, and where they come from"],
          ["version -o json", "the same as one JSON object"],
        ],
        programName,
      ),
    )
    .action(
      (): Promise<void> => run(async (ctx) => (await import("../commands/version.js")).versionAction(ctx)),
    );
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function diagnoseCommand(run: Runner, programName: string) {
  return new Command("diagnose")
    .description("Explain why a VM's migration is slow, queued or failing, and what to do about it")
    .argument("[vm]", "the VM (or standalone VMI); with --from, optional when the directory holds one VM")
    .option(
      "--from <dir>",
      "diagnose offline from a directory of manifests and logs (kubectl -o yaml, must-gather)",
    )
    .option(
      "--dump <dir>",
      "also write what was gathered to this new (or empty) directory, in the layout --from reads; one VM per directory",
    )
    .option("--only <ids>", "run only these failure modes (comma-separated; may repeat)", collect)
    .option("--skip <ids>", "skip these failure modes (comma-separated; may repeat)", collect)
    .addOption(
      new Option("--fail-on <level>", "exit 7 when a finding of this severity or worse is found")
        .choices(["error", "warning", "never"] as const)
        .default("error" as const),
    )
    .addHelpText(
      "after",
      examples(
        [
          ["diagnose db-1 -n prod", "what went wrong with db-1's migrations, and the fix"],
          ["diagnose db-1 --dump ./db-1-evidence", "the same, and save the evidence to attach to a ticket"],
          ["diagnose --from ./db-1-evidence", "diagnose saved evidence offline"],
          ["diagnose db-1 --only version-skew,vif-cache -o json", "two failure modes, as JSON"],
        ],
        programName,
      ),
    )
    .action(
      (vm, flags): Promise<void> =>
        run(async (ctx) => (await import("../commands/diagnose.js")).diagnoseAction(vm, flags, ctx)),
    );
}

function parseNumber(flag: string, integer: boolean, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = Number(text);
    const ok = text.trim() !== "" && Number.isFinite(value) && (!integer || Number.isInteger(value));
    if (!ok || value < min || value > max) {
      const kind = integer ? "an integer" : "a number";
      throw new UsageError(`${flag} must be ${kind} from ${min} to ${max}, not "${text}"`, {
        hint: `for example ${flag} ${integer ? min + 1 : 10}`,
      });
    }
    return value;
  };
}

/** virtctl's --grace-period: whole seconds, -1 for none; another negative is refused, as virtctl and kubectl do. */
function parseGracePeriod(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < -1) {
    throw new UsageError(`--grace-period must be -1 or a whole number of seconds from 0, not "${text}"`, {
      hint: "for example --grace-period 0 (the same as --force), or -1 for the VMI's own grace period",
    });
  }
  return value;
}

export function simCommand(run: Runner, programName: string) {
  return new Command("sim")
    .description(
      "Run the embedded simulated KubeVirt cluster, for trying kvmig and kubectl without a cluster",
    )
    .addOption(new Option("--scenario <name>", "the cluster to simulate").default("default"))
    .addOption(
      new Option("--port <port>", "port on 127.0.0.1; 0 picks any free port")
        .default(0)
        .argParser(parseNumber("--port", true, 0, 65535)),
    )
    .option(
      "--kubeconfig-out <path>",
      "the new file to write the kubeconfig to, removed when the sim stops (default: one in a new private directory under the temp directory)",
    )
    .option(
      "--force",
      "let --kubeconfig-out replace an existing regular file (never a link); a file kvmig did not create stays when the sim stops",
      false,
    )
    .addOption(
      new Option("--speed <x>", "simulated seconds per wall second")
        .default(1)
        .argParser(parseNumber("--speed", false, 0.01, 1000)),
    )
    .addOption(
      new Option(
        "--seed <n>",
        "seed for names and numbers, for a reproducible run (default: random)",
      ).argParser(parseNumber("--seed", true, 0, 2 ** 31 - 1)),
    )
    .addOption(
      new Option("--vms <n>", "the scale scenario's number of VMs (default 200)").argParser(
        parseNumber("--vms", true, 1, 50_000),
      ),
    )
    .addOption(
      new Option(
        "--fault <spec>",
        "inject API server faults (repeatable, or comma-separated): drop-watches=DURATION, outage=AT+FOR[:reset], errors=RATE[:429|500|503|504][@KINDS], latency=MS[:JITTER][@KINDS], expire-rv=N, slow-logs=MS, truncate-logs=N, retry-after=S, errors-after=N",
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .option(
      "--request-log <file>",
      "append one JSON line per request the API server handled (time, simTime, method, path with query, status, user, userAgent, durationMs), written as each request ends",
    )
    .option("--list-scenarios", "list the scenarios and exit", false)
    .addHelpText(
      "after",
      examples(
        [
          ["sim", "serve the default scenario; then export the KUBECONFIG line it prints"],
          ["sim --port 6443 --kubeconfig-out ./sim.kubeconfig --seed 7", "a fixed port, file and seed"],
          ["sim --scenario version-skew --speed 10", "an upgrade gone wrong, ten times as fast"],
          ["sim --scenario scale --vms 10000", "ten thousand VMIs over many namespaces"],
          [
            "sim --scenario maintenance --request-log requests.jsonl",
            "node maintenance, with every request kvmig or kubectl makes in requests.jsonl",
          ],
          [
            "sim -v --seed 7 --fault errors=0.2:503 --fault drop-watches=30s",
            "a flaky API server: a fifth of the requests fail, watches end every 30s",
          ],
        ],
        programName,
      ),
    )
    .action(
      (flags): Promise<void> =>
        run(async (ctx) => (await import("../commands/sim.js")).simAction(flags, ctx)),
    );
}
