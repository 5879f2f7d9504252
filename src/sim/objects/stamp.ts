// Many VMs of one shape, fast: build a bundle once and stamp copies with new names and
// identities, for scenarios with thousands of VMs.

import type { Random } from "../random.js";
import { launcherStartupLogLines, type VmBundle } from "./bundle.js";
import type { NodeNetwork } from "./cluster.js";
import { firmwareUuid, generatedName, type Json } from "./format.js";
import { launcherPod } from "./launcher-pod.js";
import { vm, vmi } from "./vm.js";
import { launcherContainerNames, planVm, resolved, type VmDescription, type VmPlan } from "./vm-plan.js";
/** What makes one stamped VM: everything else comes from the template. */
export interface VmStampInstance {
  name: string;
  namespace: string;
  node: NodeNetwork;
  /** VM creation time; the stamp moves all of the template's times by whole seconds. */
  createdAt: number;
  podIP: string;
  /** Draws the uids, pod name suffix, MACs and container ids. */
  random: Random;
}

export interface StampedVm {
  vm: Json;
  vmi: Json;
  pod: Json;
  log: VmBundle["log"];
}

export interface VmStamper {
  /** Whether its VMs run an outdated launcher. */
  readonly outdated: boolean;
  stamp(instance: VmStampInstance): StampedVm;
}

type StampNode =
  | { kind: "const"; value: unknown }
  | { kind: "string"; parts: readonly StampPart[] }
  | { kind: "object"; keys: readonly StampNode[]; values: readonly StampNode[] }
  | { kind: "array"; items: readonly StampNode[] };

/** A literal, a value slot, or a timestamp to move. */
type StampPart = string | { slot: number } | { time: string; seconds: number; fraction: string };

const stampTimePattern = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;
const stampTemplateShift = 86_400_000;

const stampDays = new Map<number, string>();

/** An RFC 3339 time (its fraction kept) `shiftMs` (whole seconds) later; days are formatted once. */
function shiftTimestamp(time: { seconds: number; fraction: string }, shiftMs: number): string {
  const seconds = time.seconds + Math.round(shiftMs / 1000);
  const day = Math.floor(seconds / 86_400);
  let date = stampDays.get(day);
  if (date === undefined) {
    date = new Date(day * 86_400_000).toISOString().slice(0, 11);
    stampDays.set(day, date);
  }
  const rest = seconds - day * 86_400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const sec = rest % 60;
  return `${date}${h < 10 ? "0" : ""}${h}:${m < 10 ? "0" : ""}${m}:${sec < 10 ? "0" : ""}${sec}${time.fraction}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const stampSlotNames = [
  "name",
  "namespace",
  "node",
  "hostIP",
  "vmUid",
  "vmiUid",
  "podUid",
  "podName",
  "podIP",
  "firmwareUuid",
] as const;

/**
 * Compiles a stamper for VMs described like `template` (its name, namespace, node and times are
 * placeholders). The template is built twice with different identities and times one day apart;
 * what is equal in both is shared by every stamped copy (stored objects are never changed in
 * place), and every string that differs must be the template's with the identities replaced and
 * the timestamps moved, or compiling fails. So a stamped VM is what `vmBundle` would build, minus
 * the start events (an API server keeps events for an hour; stamped VMs are older).
 */
export function vmStamper(
  template: VmDescription,
  context: { currentLauncherImage: string; random: Random },
): VmStamper {
  const r = resolved(template);
  const multus = r.networks.filter((n) => n.multus !== undefined);
  const names = launcherContainerNames(template);
  const containers = [...names.init, ...names.main];
  const slotNames: string[] = [
    ...stampSlotNames,
    ...r.networks.map((n) => `mac:${n.name}`),
    "podMac:eth0",
    ...multus.map((n) => `podMac:${n.name}`),
    ...multus.map((n) => `secondaryIP:${n.name}`),
    ...containers.map((c) => `container:${c}`),
  ];
  const slot = (name: string) => slotNames.indexOf(name);
  const tokens = (variant: string) => slotNames.map((_, i) => `zq${variant}${String(i).padStart(3, "0")}zq`);
  const tokensA = tokens("a");
  const tokensB = tokens("b");
  // The firmware uuid is a hash of the name: its own slot, filled from the name.
  tokensA[slot("firmwareUuid")] = firmwareUuid(tokensA[slot("name")] as string);
  tokensB[slot("firmwareUuid")] = firmwareUuid(tokensB[slot("name")] as string);

  const base = planVm(
    { ...template, node: "template-node" },
    {
      random: context.random,
      currentLauncherImage: context.currentLauncherImage,
      nodes: [{ name: "template-node", internalIP: "192.0.2.1", podCIDR: "10.0.0.0/24" }],
    },
  );
  const variant = (values: readonly string[], shift: number) => {
    const v = (name: string) => values[slot(name)] as string;
    const pick = (prefix: string, keys: readonly string[]) =>
      Object.fromEntries(keys.map((key) => [key, v(`${prefix}:${key}`)]));
    const desc: VmDescription = {
      ...template,
      name: v("name"),
      namespace: v("namespace"),
      node: v("node"),
      createdAt: template.createdAt + shift,
      startedAt: template.startedAt === undefined ? undefined : template.startedAt + shift,
    };
    const times = Object.fromEntries(
      Object.entries(base.times).map(([key, value]) => [key, value + shift]),
    ) as VmPlan["times"];
    const plan: VmPlan = {
      ...base,
      vmUid: v("vmUid"),
      vmiUid: v("vmiUid"),
      podUid: v("podUid"),
      podName: v("podName"),
      node: { name: v("node"), internalIP: v("hostIP"), podCIDR: "10.0.0.0/24" },
      podIP: v("podIP"),
      macs: pick(
        "mac",
        r.networks.map((n) => n.name),
      ),
      secondaryIPs: pick(
        "secondaryIP",
        multus.map((n) => n.name),
      ),
      podMacs: pick("podMac", ["eth0", ...multus.map((n) => n.name)]),
      containerIds: pick("container", containers),
      times,
    };
    return {
      vm: vm(desc, plan),
      vmi: vmi(desc, plan),
      pod: launcherPod(desc, plan),
      lines: launcherStartupLogLines(desc, plan),
    };
  };
  const a = variant(tokensA, 0);
  const b = variant(tokensB, stampTemplateShift);

  const literal = new RegExp(
    `${[...tokensA]
      .sort((x, y) => y.length - x.length)
      .map(escapeRegExp)
      .join("|")}|${stampTimePattern.source}`,
    "g",
  );
  const slotOf = new Map(tokensA.map((token, i) => [token, i]));
  const fill = (parts: readonly StampPart[], values: readonly string[], shift: number) => {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") out += part;
      else if ("slot" in part) out += values[part.slot];
      else out += shiftTimestamp(part, shift);
    }
    return out;
  };
  const compileString = (sa: string, sb: string, path: string): StampNode => {
    if (sa === sb) return { kind: "const", value: sa };
    const parts: StampPart[] = [];
    let last = 0;
    for (const match of sa.matchAll(literal)) {
      if (match.index > last) parts.push(sa.slice(last, match.index));
      const index = slotOf.get(match[0]);
      const text = match[0];
      parts.push(
        index === undefined
          ? { time: text, seconds: Date.parse(`${text.slice(0, 19)}Z`) / 1000, fraction: text.slice(19) }
          : { slot: index },
      );
      last = match.index + match[0].length;
    }
    if (last < sa.length) parts.push(sa.slice(last));
    if (fill(parts, tokensB, stampTemplateShift) !== sb) {
      throw new Error(`vmStamper: ${path} is not the template's with identities and times replaced`);
    }
    return { kind: "string", parts };
  };
  const compile = (va: unknown, vb: unknown, path: string): StampNode => {
    if (typeof va === "string" && typeof vb === "string") return compileString(va, vb, path);
    if (Array.isArray(va) && Array.isArray(vb) && va.length === vb.length) {
      const items = va.map((item, i) => compile(item, vb[i], `${path}[${i}]`));
      return items.every((item) => item.kind === "const")
        ? { kind: "const", value: va }
        : { kind: "array", items };
    }
    if (
      typeof va === "object" &&
      va !== null &&
      typeof vb === "object" &&
      vb !== null &&
      !Array.isArray(va)
    ) {
      const ka = Object.keys(va);
      const kb = Object.keys(vb);
      if (ka.length === kb.length) {
        const keys = ka.map((key, i) => compileString(key, kb[i] as string, `${path}.${key}`));
        const values = ka.map((key, i) =>
          compile((va as Json)[key], (vb as Json)[kb[i] as string], `${path}.${key}`),
        );
        if (keys.every((k) => k.kind === "const") && values.every((v) => v.kind === "const")) {
          return { kind: "const", value: va };
        }
        return { kind: "object", keys, values };
      }
    }
    if (va === vb) return { kind: "const", value: va };
    throw new Error(`vmStamper: ${path} differs between two stamps in a way a stamp cannot reproduce`);
  };
  // The compiled tree becomes one function that builds a stamp with object and array literals:
  // several times faster than walking the tree, which matters at ten thousand VMs. It only
  // references the shared constants (`c`), the stamp's values (`v`) and moved times (`m`).
  const constants: unknown[] = [];
  const times: { seconds: number; fraction: string }[] = [];
  const timeIndex = new Map<string, number>();
  const emitString = (parts: readonly StampPart[]) =>
    `(""${parts
      .map((part) => {
        if (typeof part === "string") return `+${JSON.stringify(part)}`;
        if ("slot" in part) return `+v[${part.slot}]`;
        let index = timeIndex.get(part.time);
        if (index === undefined) {
          index = times.length;
          times.push(part);
          timeIndex.set(part.time, index);
        }
        return `+m[${index}]`;
      })
      .join("")})`;
  const emit = (node: StampNode): string => {
    switch (node.kind) {
      case "const":
        if (typeof node.value === "object" && node.value !== null) {
          constants.push(node.value);
          return `c[${constants.length - 1}]`;
        }
        return node.value === undefined ? "undefined" : JSON.stringify(node.value);
      case "string":
        return emitString(node.parts);
      case "array":
        return `[${node.items.map(emit).join(",")}]`;
      case "object":
        return `{${node.keys
          .map((key, i) => {
            const value = emit(node.values[i] as StampNode);
            return key.kind === "const" ? `${JSON.stringify(key.value)}:${value}` : `[${emit(key)}]:${value}`;
          })
          .join(",")}}`;
    }
  };
  const body = [
    `vm:${emit(compile(a.vm, b.vm, "vm"))}`,
    `vmi:${emit(compile(a.vmi, b.vmi, "vmi"))}`,
    `pod:${emit(compile(a.pod, b.pod, "pod"))}`,
    `lines:[${a.lines.map((line, i) => emit(compileString(line.text, b.lines[i]?.text ?? "", `log[${i}]`))).join(",")}]`,
  ].join(",");
  const build = new Function("c", "v", "m", `"use strict";return {${body}};`) as (
    c: readonly unknown[],
    v: readonly string[],
    m: readonly string[],
  ) => { vm: Json; vmi: Json; pod: Json; lines: string[] };
  const lineTimes = a.lines.map((line) => line.time);
  const octets = (random: Random) =>
    `${random.int(0, 255).toString(16).padStart(2, "0")}:${random.int(0, 255).toString(16).padStart(2, "0")}:${random.int(0, 255).toString(16).padStart(2, "0")}`;

  return {
    outdated: base.outdated,
    stamp(instance) {
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(instance.name)) {
        throw new Error(`vmStamper: ${JSON.stringify(instance.name)} is not a stampable VM name`);
      }
      const random = instance.random;
      const values: string[] = new Array(slotNames.length).fill("");
      const set = (name: string, value: string) => {
        values[slot(name)] = value;
      };
      set("name", instance.name);
      set("namespace", instance.namespace);
      set("node", instance.node.name);
      set("hostIP", instance.node.internalIP);
      set("firmwareUuid", firmwareUuid(instance.name));
      set("vmUid", random.uid());
      set("vmiUid", random.uid());
      set("podUid", random.uid());
      set("podName", generatedName(`virt-launcher-${instance.name}-`, random));
      set("podIP", instance.podIP);
      for (const network of r.networks)
        set(`mac:${network.name}`, network.macAddress ?? `52:54:00:${octets(random)}`);
      set("podMac:eth0", `0a:58:0a:${octets(random)}`);
      for (const network of multus) {
        set(`podMac:${network.name}`, `02:9c:1e:${octets(random)}`);
        const n = /(\d+)$/.exec(network.multus ?? "");
        set(`secondaryIP:${network.name}`, `10.${(n ? Number(n[1]) : 0) % 256}.0.${random.int(10, 250)}`);
      }
      for (const container of containers) {
        // 64 hex digits, 8 per draw (Random.hex draws one per digit).
        let id = "";
        for (let k = 0; k < 8; k++) id += random.int(0, 0xffffffff).toString(16).padStart(8, "0");
        set(`container:${container}`, id);
      }
      const shift = Math.round((instance.createdAt - template.createdAt) / 1000) * 1000;
      const built = build(
        constants,
        values,
        times.map((time) => shiftTimestamp(time, shift)),
      );
      return {
        vm: built.vm,
        vmi: built.vmi,
        pod: built.pod,
        log: {
          namespace: instance.namespace,
          pod: values[slot("podName")] as string,
          container: "compute",
          lines: built.lines.map((text, i) => ({ time: (lineTimes[i] ?? 0) + shift, text })),
        },
      };
    },
  };
}
