// Portable: the read-only commands on a healthy cluster. Nothing runs an outdated virt-launcher
// (a fresh install), and kvmig diagnose finds no problem with a healthy VM.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines } from "../e2e/built-cli.js";
import { createTarget, type E2eTarget, namespace, timeoutFor, vmBridge, vmMasq } from "./target.js";

let target: E2eTarget;
beforeAll(async () => {
  target = await createTarget();
  await target.settle();
}, timeoutFor(60_000));
afterAll(() => target?.close());

describe("on a healthy cluster", () => {
  it(
    "kvmig outdated: no VMI runs an outdated virt-launcher, exit 0",
    async () => {
      const result = await target.run(["outdated", "-n", namespace]);
      expect(result.code).toBe(0);
      const out = lines(result.stdout);
      // KubeVirt's own count appears once its workload updater has made a pass.
      expect(out[0]).toMatch(/^KubeVirt v\S+ \(Deployed\)(; its own count of outdated VMIs: 0)?$/);
      expect(out.at(-1)).toBe(`no VMI runs an outdated virt-launcher in namespace ${namespace}`);

      const json = await target.run(["outdated", "-n", namespace, "-o", "json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).items).toEqual([]);
    },
    timeoutFor(20_000, 60_000),
  );

  it.each([vmBridge, vmMasq])(
    "kvmig diagnose %s: no problems found, exit 0",
    async (vm) => {
      const result = await target.run(["diagnose", vm, "-n", namespace]);
      expect(result.stderr).not.toMatch(/^error:/m);
      expect(result.code).toBe(0);
      const out = lines(result.stdout);
      expect(out[0]).toMatch(
        new RegExp(`^${namespace}/${vm}: no problems found \\(live cluster, at \\S+\\)$`),
      );
      expect(out).toContainEqual(expect.stringMatching(/^ {2}VM, VMI Running on \S+$/));
      if (vm === vmBridge) {
        expect(out).toContainEqual(expect.stringMatching(/ 2 NetworkAttachmentDefinitions, /));
      }
    },
    timeoutFor(20_000, 60_000),
  );
});
