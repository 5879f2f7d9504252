// The VM picker: when a command's VM argument is missing on a terminal, a searchable list of the
// VMs in the namespace, each with its node, phase and whether it is migrating. Without a
// terminal the missing argument is a usage error that names it; a script never waits on a prompt.

import type { CommandContext } from "../context.js";
import { NotFoundError, UsageError } from "../errors.js";
import { formatTable } from "../io/table.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { requireNamespace } from "../k8s/namespace.js";
import type {
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "../k8s/types.js";
import { unfinishedMigration } from "../migration/preflight.js";
import { readNamespaceVms, vmiNameLabel } from "../operations/read-vm.js";
import { checkVmName } from "../util/names.js";
import { compareText } from "../util/order.js";
import { commandLine, kvmigCommand } from "../util/shell.js";

export type PickingCommand = "migrate" | "cancel" | "restart" | "diagnose" | "watch" | "history";

/** One line of the picker. */
export interface PickerRow {
  name: string;
  node: string;
  phase: string;
  /** The unfinished migration's phase ("Running", "Scheduling", ...), when there is one. */
  migrating?: string | undefined;
}

const questions: Record<PickingCommand, string> = {
  migrate: "VM to migrate",
  cancel: "VM whose migration to cancel",
  restart: "VM to restart",
  diagnose: "VM to diagnose",
  watch: "VM to watch",
  history: "VM whose migrations to list",
};

/** What to do with the argument, for the usage error without a terminal. */
const purposes: Record<PickingCommand, string> = {
  migrate: "the VM to migrate",
  cancel: "the VM whose migration to cancel",
  restart: "the VM to restart",
  diagnose: "the VM to diagnose",
  watch: "the VM to watch",
  history: "the VM whose migrations to list, or -A, -l or --node for many",
};

/**
 * The rows a command offers, in the order shown: `cancel` only VMs with an unfinished migration,
 * `restart` only VMIs a VM owns (a standalone VMI has no restart), `diagnose` also VMs that do
 * not run; migrating VMs first where the command is about a migration in flight.
 */
export function pickerRows(
  command: PickingCommand,
  vmis: readonly VirtualMachineInstance[],
  migrations: readonly VirtualMachineInstanceMigration[],
  vms: readonly VirtualMachine[] = [],
): PickerRow[] {
  const migrationsOf = new Map<string, VirtualMachineInstanceMigration[]>();
  for (const m of migrations) {
    const vmi = m.spec?.vmiName ?? m.metadata.labels?.[vmiNameLabel];
    if (vmi) migrationsOf.set(vmi, [...(migrationsOf.get(vmi) ?? []), m]);
  }
  let rows: PickerRow[] = vmis.map((vmi) => {
    const name = vmi.metadata.name ?? "";
    const unfinished = unfinishedMigration(migrationsOf.get(name) ?? []);
    return {
      name,
      node: vmi.status?.nodeName || "-",
      phase: vmi.status?.phase || "Unknown",
      migrating: unfinished ? unfinished.status?.phase || "Pending" : undefined,
    };
  });
  if (command === "restart") {
    const owned = new Set(
      vmis
        .filter((vmi) => vmi.metadata.ownerReferences?.some((o) => o.kind === "VirtualMachine"))
        .map((vmi) => vmi.metadata.name),
    );
    rows = rows.filter((row) => owned.has(row.name));
  }
  if (command === "diagnose") {
    const running = new Set(rows.map((r) => r.name));
    for (const vm of vms) {
      const name = vm.metadata.name ?? "";
      if (!running.has(name)) rows.push({ name, node: "-", phase: vm.status?.printableStatus || "Stopped" });
    }
  }
  if (command === "cancel") rows = rows.filter((row) => row.migrating !== undefined);
  const migratingFirst = command === "cancel" || command === "watch";
  return rows.sort(
    (a, b) =>
      (migratingFirst ? Number(b.migrating !== undefined) - Number(a.migrating !== undefined) : 0) ||
      compareText(a.name, b.name),
  );
}

/** The picker's lines: the columns line up, so the list reads like `kubectl get`. */
export function pickerLabels(rows: readonly PickerRow[]): string[] {
  const cells = rows.map((r) => [r.name, r.node, r.phase, r.migrating ? `migrating (${r.migrating})` : ""]);
  return formatTable(["", "", "", ""], cells, { noHeaders: true }).split("\n");
}

export function missingVmError(command: PickingCommand, namespace: string | undefined): UsageError {
  const offline = command === "diagnose" ? ", or --from DIR for saved evidence" : "";
  return new UsageError(`missing required argument VM (${purposes[command]})`, {
    hint: `${kvmigCommand([command, "VM", "-n", namespace ?? "NAMESPACE"])}${offline}; on a terminal kvmig offers a list to choose from`,
  });
}

/**
 * The VM argument, or the one picked from a list on a terminal. Without a terminal a missing VM
 * is a usage error before anything is read (not even the kubeconfig).
 */
export async function vmOrPick(
  ctx: CommandContext,
  vm: string | undefined,
  command: Exclude<PickingCommand, "cancel">,
): Promise<string>;
export async function vmOrPick(
  ctx: CommandContext,
  vm: string | undefined,
  command: "cancel",
): Promise<string | undefined>;
export async function vmOrPick(
  ctx: CommandContext,
  vm: string | undefined,
  command: PickingCommand,
): Promise<string | undefined> {
  if (vm !== undefined) {
    checkVmName(
      vm,
      `list the VMs with: ${commandLine(["kubectl", "get", "vm,vmi", "-n", ctx.options.namespace ?? "NAMESPACE"])}`,
    );
    return vm;
  }
  if (!ctx.prompter.interactive) throw missingVmError(command, ctx.options.namespace);
  const kube = await ctx.kube();
  const picked = await pickVm(ctx, kube, kube.namespace, command);
  if (picked === undefined && command !== "cancel") throw missingVmError(command, kube.namespace);
  return picked;
}

/**
 * The VM the user picks. Undefined only for `cancel` when no VM has an unfinished migration
 * (nothing to cancel, which is not an error).
 */
export async function pickVm(
  ctx: Pick<CommandContext, "prompter">,
  kube: KubeClient,
  namespace: string,
  command: PickingCommand,
): Promise<string | undefined> {
  // Without a terminal, nothing is read: the argument is simply missing.
  if (!ctx.prompter.interactive) throw missingVmError(command, namespace);
  const { vmis, migrations, vms } = await readNamespaceVms(kube, namespace, { vms: command === "diagnose" });
  const rows = pickerRows(command, vmis, migrations, vms);
  if (rows.length === 0) {
    await requireNamespace(kube, namespace);
    if (command === "cancel") return undefined;
    const what = command === "diagnose" ? "VMs" : "running VMs";
    throw new NotFoundError(`no ${what} in namespace ${namespace} to choose from`, {
      hint: `pick another namespace with -n NAMESPACE; list them all with: ${commandLine(["kubectl", "get", "vmi", "-A"])}`,
    });
  }
  const labels = pickerLabels(rows);
  return ctx.prompter.search({
    message: `${questions[command]} (namespace ${namespace}; type to filter)`,
    flag: "the VM argument",
    choices: rows.map((row, i) => ({ name: labels[i] ?? row.name, value: row.name })),
  });
}
