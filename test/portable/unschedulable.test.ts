// Portable: a migration no node can take, forced through --node-selector. The pre-flight refuses
// it (exit 3, nothing created); with --force it starts, the target pod stays Pending and kvmig
// says why (the scheduler's own message) until its --timeout (exit 6: the migration goes on).
// KubeVirt itself would give up after 300 s; the test cancels it instead.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { lines } from "../e2e/built-cli.js";
import { createTarget, type E2eTarget, isFinal, namespace, timeoutFor, vmMasq } from "./target.js";

const selector = "kubernetes.io/hostname=nowhere";

let target: E2eTarget;
beforeAll(async () => {
  target = await createTarget();
}, 60_000);
afterEach(() => target?.cleanup(), timeoutFor(30_000));
afterAll(() => target?.close());

describe(`kvmig migrate --node-selector ${selector}`, () => {
  it(
    "without --force: the pre-flight says no node has the label, exit 3, and no migration is created",
    async () => {
      await target.settle();
      const before = (await target.migrations(vmMasq)).length;
      const result = await target.run(["migrate", vmMasq, "-n", namespace, "--node-selector", selector]);
      expect(result.code).toBe(8);
      const err = lines(result.stderr);
      expect(err).toContain(
        "  error    no node other than the source has the label kubernetes.io/hostname=nowhere",
      );
      expect(err.slice(-2)).toEqual([
        "error: pre-flight: no node other than the source has the label kubernetes.io/hostname=nowhere",
        "hint: check the labels: kubectl get nodes -l kubernetes.io/hostname=nowhere; --force starts the migration anyway",
      ]);
      expect((await target.migrations(vmMasq)).length).toBe(before);
    },
    timeoutFor(20_000, 60_000),
  );

  it(
    "--force: the target pod stays Pending, kvmig names the scheduler's reason, exit 6 at --timeout; then cancel",
    async () => {
      await target.settle();
      const source = (await target.vmi(vmMasq))?.status?.nodeName;
      // Long enough for a real scheduler to have tried the pod; short enough to keep the suite quick.
      const timeout = target.kind === "sim" ? "6s" : "30s";
      const result = await target.run([
        "migrate",
        vmMasq,
        "-n",
        namespace,
        "--node-selector",
        selector,
        "--force",
        "--timeout",
        timeout,
      ]);
      expect(result.code).toBe(6);
      const err = lines(result.stderr);
      const waiting = err.find((l) => /^ {2}waiting {3}target pod /.test(l));
      expect(waiting).toMatch(
        /^ {2}waiting {3}target pod virt-launcher-vm-masq-\S+ is unschedulable: 0\/\d+ nodes are available: .*didn't match Pod's node affinity\/selector/,
      );
      expect(err.at(-2)).toMatch(
        /^error: migration \S+ is still (Pending|Scheduling) after the --timeout; it goes on$/,
      );
      expect(err.at(-1)).toBe(
        `hint: follow it with: kvmig watch ${vmMasq} -n ${namespace}; cancel it with: kvmig cancel ${vmMasq} -n ${namespace}`,
      );

      // As KubeVirt shows it: the VMIM carries the selector, its target pod is Unschedulable.
      const open = (await target.migrations(vmMasq)).filter((m) => !isFinal(m));
      expect(open).toHaveLength(1);
      const migration = open[0];
      expect(migration?.spec?.addedNodeSelector).toEqual({ "kubernetes.io/hostname": "nowhere" });
      const pods = await target.pods(`kubevirt.io/migrationJobUID=${migration?.metadata.uid}`);
      expect(pods).toHaveLength(1);
      expect(pods[0]?.status?.phase).toBe("Pending");
      expect(pods[0]?.status?.conditions).toContainEqual(
        expect.objectContaining({ type: "PodScheduled", status: "False", reason: "Unschedulable" }),
      );

      const cancel = await target.run(["cancel", vmMasq, "-n", namespace, "--yes"]);
      expect(cancel.code).toBe(0);
      expect(lines(cancel.stdout)).toEqual([
        `aborted: migration ${migration?.metadata.name} was cancelled; ${namespace}/${vmMasq} is still on ${source}`,
      ]);
    },
    timeoutFor(40_000),
  );
});
