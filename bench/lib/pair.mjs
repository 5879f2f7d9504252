// One case: a kvmig command next to its kubectl counterpart, run alternately (kvmig first in
// even rounds, kubectl first in odd ones) so that whatever else the machine does hits both.
import { createReadStream, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ratio, summarize, timeCommand } from "./measure.mjs";

/**
 * `kvmig` and `kubectl`: `{ args, ok?, check?, name? }` (`name` is what the table calls the
 * command; `kvmig.file` an executable run instead of node dist/kvmig.js); `check(file)` reads the output of the first run
 * (the warm-up where there is one), returns what it found and throws when it is wrong.
 * `kubectl` is skipped when the machine has none.
 */
export async function comparePair(ctx, { id, label, kubeconfig, kvmig, kubectl, runs, warmup = !ctx.quick }) {
  const env = ctx.env(kubeconfig);
  const sides = [
    // `kvmig.file`: an executable to run instead of `node dist/kvmig.js` (the single executable).
    kvmig.file
      ? { name: "kvmig", file: kvmig.file, args: kvmig.args, spec: kvmig }
      : { name: "kvmig", file: process.execPath, args: [ctx.distEntry, ...kvmig.args], spec: kvmig },
    ...(kubectl && ctx.kubectl
      ? [{ name: "kubectl", file: ctx.kubectl, args: kubectl.args, spec: kubectl }]
      : []),
  ];
  const samples = new Map(sides.map((s) => [s.name, []]));
  const checks = new Map();
  const once = async (side, keep) => {
    const output = keep ? join(ctx.tmp, `${id}-${side.name}.out`) : undefined;
    const result = await timeCommand(side.file, side.args, {
      env,
      cwd: ctx.root,
      tmp: ctx.tmp,
      ok: side.spec.ok ?? [0],
      stdoutFile: output,
    });
    if (output) {
      try {
        checks.set(side.name, side.spec.check ? await side.spec.check(output, result) : undefined);
      } finally {
        rmSync(output, { force: true });
      }
    }
    return result;
  };
  ctx.log(`${id}: ${warmup ? "warm-up, then " : ""}${runs} run${runs === 1 ? "" : "s"} of each`);
  if (warmup) for (const side of sides) await once(side, true);
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const { stderr: _stderr, ...sample } = await once(side, !warmup && round === 0);
      samples.get(side.name).push(sample);
    }
  }
  const result = (side) => {
    if (!side) return null;
    return {
      command: `${side.spec.name ?? side.name} ${side.spec.args.join(" ")}`,
      ...summarize(samples.get(side.name)),
      check: checks.get(side.name) ?? null,
      samples: samples.get(side.name),
    };
  };
  const k = result(sides[0]);
  const c = result(sides[1]);
  return {
    id,
    label,
    kvmig: k,
    kubectl: kubectl ? (c ?? { command: `kubectl ${kubectl.args.join(" ")}`, skipped: "no kubectl" }) : null,
    ratio: {
      wall: ratio(k.wallMs, c?.wallMs),
      cpu: ratio(k.cpuMs, c?.cpuMs),
      rss: ratio(k.maxRssKiB, c?.maxRssKiB),
    },
  };
}

/** Checks that the output is JSON with `items` (as many as `expected`, when given). */
export function jsonItems(expected) {
  return (file) => {
    const items = JSON.parse(readFileSync(file, "utf8")).items;
    if (!Array.isArray(items)) throw new Error(`${file}: no items`);
    if (expected !== undefined && items.length !== expected)
      throw new Error(`expected ${expected} items, found ${items.length}`);
    return { items: items.length };
  };
}

/**
 * The same for kubectl's `-o json` list of VMIs, counted in the raw bytes (its indented output
 * has one `"kind": "VirtualMachineInstance",` line per item, at 12 spaces), since 50,000 VMIs
 * make a text too long for one JavaScript string.
 */
export function kubectlVmiItems(expected) {
  const needle = Buffer.from('\n            "kind": "VirtualMachineInstance",\n');
  return async (file) => {
    let items = 0;
    let carry = Buffer.alloc(0);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) {
      const buffer = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let at = buffer.indexOf(needle);
      let end = 0;
      while (at !== -1) {
        items++;
        end = at + needle.length;
        at = buffer.indexOf(needle, end);
      }
      // Keep the tail that may hold the start of a match cut by the chunk's end.
      carry = buffer.subarray(Math.max(end, buffer.length - needle.length + 1));
    }
    if (expected !== undefined && items !== expected)
      throw new Error(`expected ${expected} VMIs, found ${items}`);
    return { items };
  };
}

/** Checks that stdout holds `text`. */
export function contains(text) {
  return (file) => {
    if (!readFileSync(file, "utf8").includes(text)) throw new Error(`output without "${text}"`);
    return { contains: text };
  };
}
