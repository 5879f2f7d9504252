// virt-api's subresource handlers (facts §a): migrate, restart, start, stop and evacuate/cancel,
// with their status codes and messages. They write objects; the controllers do the rest.

import type { KubevirtActionRequest, KubevirtActionResult } from "../server.js";
import { badRequest, internalError, SimApiError, statusError } from "../status.js";
import type { SimObject } from "../store.js";
import { migrationConfig } from "./config.js";
import { type ControllerRuntime, dig, R, str } from "./runtime.js";

const accepted: KubevirtActionResult = { code: 202 };

function notFound(kind: "virtualmachine" | "virtualmachineinstance", name: string): SimApiError {
  return statusError(404, "NotFound", `${kind}.kubevirt.io "${name}" not found`, {
    name,
    group: "kubevirt.io",
    kind,
  });
}

function cannot(name: string, why: string): SimApiError {
  return statusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on virtualmachine.kubevirt.io "${name}": ${why}`,
    {
      name,
      group: "kubevirt.io",
      kind: "virtualmachine",
    },
  );
}

function isDryRun(body: unknown): boolean {
  const dryRun = dig(body, "dryRun");
  return Array.isArray(dryRun) && dryRun.includes("All");
}

function optionsOf(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("the request body is not an object");
  return body as Record<string, unknown>;
}

export function virtApi(rt: ControllerRuntime) {
  const vmOf = (namespace: string, name: string) => {
    const vm = rt.get(R.vm, namespace, name);
    if (!vm) throw notFound("virtualmachine", name);
    return vm;
  };

  const migrate = (request: KubevirtActionRequest): KubevirtActionResult => {
    const options = optionsOf(request.body);
    vmOf(request.namespace, request.name);
    const vmi = rt.get(R.vmi, request.namespace, request.name);
    if (!vmi) throw notFound("virtualmachineinstance", request.name);
    if (str(vmi, "status", "phase") !== "Running") throw cannot(request.name, "VM is not running");
    const selector = options.addedNodeSelector as Record<string, string> | undefined;
    try {
      rt.store.create(
        R.vmim,
        {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachineInstanceMigration",
          metadata: { generateName: "kubevirt-migrate-vm-", namespace: request.namespace },
          spec: { vmiName: request.name, ...(selector ? { addedNodeSelector: selector } : {}) },
        },
        { dryRun: isDryRun(options), user: request.user.name },
      );
    } catch (error) {
      if (error instanceof SimApiError) throw internalError(error.status.message ?? "");
      throw error;
    }
    return accepted;
  };

  const restart = (request: KubevirtActionRequest): KubevirtActionResult => {
    const options = optionsOf(request.body);
    const grace = options.gracePeriodSeconds as number | undefined;
    if (grace !== undefined && grace !== null) {
      if (grace > 0) throw badRequest("For force restart, only gracePeriod=0 is supported for now");
      if (grace < 0) throw badRequest("gracePeriod has to be greater or equal to 0");
    }
    const vm = vmOf(request.namespace, request.name);
    const strategy = runStrategyOf(vm);
    if (strategy === "Halted" || strategy === "Once") {
      throw cannot(request.name, `RunStategy ${strategy} does not support manual restart requests`);
    }
    const vmi = rt.get(R.vmi, request.namespace, request.name);
    if (!vmi) throw cannot(request.name, "VM is not running: Halted");
    if (isDryRun(options)) return accepted;
    if (grace === 0) {
      rt.mutate(R.vmi, request.namespace, request.name, (o) => {
        (o.spec as Record<string, unknown>).terminationGracePeriodSeconds = 1;
      });
    }
    rt.mutate(
      R.vm,
      request.namespace,
      request.name,
      (o) => {
        o.status = {
          ...(o.status as object),
          stateChangeRequests: [{ action: "Stop", uid: vmi.metadata.uid }, { action: "Start" }],
        };
      },
      "status",
    );
    return accepted;
  };

  const startOrStop = (request: KubevirtActionRequest, start: boolean): KubevirtActionResult => {
    const options = optionsOf(request.body);
    const vm = vmOf(request.namespace, request.name);
    const vmi = rt.get(R.vmi, request.namespace, request.name);
    const running = vmi !== undefined && !vmi.metadata.deletionTimestamp;
    if (start && running) throw cannot(request.name, "VM is already running");
    if (!start && !running && runStrategyOf(vm) !== "Always") throw cannot(request.name, "VM is not running");
    if (isDryRun(options)) return accepted;
    if (runStrategyOf(vm) === "Manual") {
      rt.mutate(
        R.vm,
        request.namespace,
        request.name,
        (o) => {
          const request = start ? { action: "Start" } : { action: "Stop", uid: vmi?.metadata.uid };
          o.status = { ...(o.status as object), stateChangeRequests: [request] };
        },
        "status",
      );
    } else {
      rt.mutate(R.vm, request.namespace, request.name, (o) => {
        const spec = o.spec as Record<string, unknown>;
        delete spec.running;
        spec.runStrategy = start ? "Always" : "Halted";
      });
    }
    return accepted;
  };

  const evacuateCancel = (request: KubevirtActionRequest): KubevirtActionResult => {
    const options = optionsOf(request.body);
    const node = options.evacuationNodeName;
    if (typeof node !== "string" || node === "") throw badRequest("evacuationNodeName is required");
    if (request.resource === "virtualmachines") vmOf(request.namespace, request.name);
    const vmi = rt.get(R.vmi, request.namespace, request.name);
    if (!vmi) throw notFound("virtualmachineinstance", request.name);
    const taintKey = migrationConfig(rt).nodeDrainTaintKey;
    const taints = (dig(rt.get(R.node, undefined, node), "spec", "taints") ?? []) as {
      key: string;
      effect: string;
    }[];
    if (taints.some((t) => t.key === taintKey && t.effect === "NoSchedule")) {
      throw badRequest(`Node "${node}" has NodeDrainTaintKey "${taintKey}"`);
    }
    if (!str(vmi, "status", "evacuationNodeName")) return { code: 200, body: undefined };
    if (isDryRun(options)) return { code: 200 };
    try {
      rt.store.patch(R.vmi, request.namespace, request.name, "json", [
        { op: "test", path: "/status/evacuationNodeName", value: node },
        { op: "remove", path: "/status/evacuationNodeName" },
      ]);
    } catch (error) {
      if (error instanceof SimApiError) throw internalError(error.status.details?.causes?.[0]?.message ?? "");
      throw error;
    }
    return { code: 200 };
  };

  return (request: KubevirtActionRequest): KubevirtActionResult => {
    const onVm = request.resource === "virtualmachines";
    switch (request.action) {
      case "migrate":
        if (onVm) return migrate(request);
        break;
      case "restart":
        if (onVm) return restart(request);
        break;
      case "start":
        if (onVm) return startOrStop(request, true);
        break;
      case "stop":
        if (onVm) return startOrStop(request, false);
        break;
      case "evacuate/cancel":
        return evacuateCancel(request);
    }
    throw statusError(404, "NotFound", "the server could not find the requested resource", {});
  };
}

export function runStrategyOf(vm: SimObject): string {
  const spec = (vm.spec ?? {}) as { runStrategy?: string; running?: boolean };
  if (spec.runStrategy) return spec.runStrategy;
  return spec.running === false ? "Halted" : "Always";
}
