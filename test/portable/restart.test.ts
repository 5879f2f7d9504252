// Portable: kvmig restart replaces the VMI (a new uid) and waits until the new one runs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { lines } from "../e2e/built-cli.js";
import { createTarget, type E2eTarget, namespace, timeoutFor, vmMasq } from "./target.js";

let target: E2eTarget;
beforeAll(async () => {
  target = await createTarget();
}, 60_000);
afterEach(() => target?.cleanup(), timeoutFor(30_000));
afterAll(() => target?.close());

describe("kvmig restart", () => {
  it(
    "--yes: the old VMI goes, a new one (new uid) runs on the current launcher, and the downtime is reported",
    async () => {
      await target.settle();
      const before = await target.vmi(vmMasq);
      const result = await target.run(["restart", vmMasq, "-n", namespace, "--yes"]);
      expect(result.stderr).not.toMatch(/^error:/m);
      expect(result.code).toBe(0);

      const after = await target.vmi(vmMasq);
      expect(after?.metadata.uid).toBeTruthy();
      expect(after?.metadata.uid).not.toBe(before?.metadata.uid);
      expect(after?.status?.phase).toBe("Running");

      const err = lines(result.stderr);
      expect(err[0]).toBe(
        `warning: restarting ${namespace}/${vmMasq} stops its guest: it is down until the new VMI runs (usually tens of seconds, longer for big VMs)`,
      );
      expect(err).toContain(`stopping ${namespace}/${vmMasq} on ${before?.status?.nodeName}`);
      const out = lines(result.stdout);
      const node = after?.status?.nodeName;
      expect(out[0]).toBe(
        node === before?.status?.nodeName
          ? `Restarted  ${namespace}/${vmMasq} on ${node} again`
          : `Restarted  ${namespace}/${vmMasq} ${before?.status?.nodeName} → ${node}`,
      );
      expect(out[1]).toMatch(/^ {2}downtime {3}\d+\.\ds \(old VMI gone → new VMI Running\)$/);
      // A release install names the launcher by digest (virt-launcher@sha256:...), the simulation by tag.
      expect(out).toContainEqual(expect.stringMatching(/^ {2}launcher {3}\S+virt-launcher\S+ \(current\)$/));
    },
    timeoutFor(60_000),
  );
});
