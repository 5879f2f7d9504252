// kvmig version in-process, through the fake cluster: what it prints from what it reads.
import { describe, expect, it } from "vitest";
import { ApiError, ExitCode } from "../../src/errors.js";
import type { KubeVirt } from "../../src/k8s/types.js";
import { kvmigVersion } from "../../src/version.js";
import { fakeKube } from "../helpers/fake-kube.js";
import { runCli } from "../helpers/test-context.js";

const kubevirtCr: KubeVirt = {
  metadata: { name: "kubevirt", namespace: "kubevirt" },
  spec: {},
  status: { phase: "Deployed", observedKubeVirtVersion: "v1.8.2", targetKubeVirtVersion: "v1.9.0" },
};

function healthyCluster() {
  return fakeKube(
    {
      serverVersion: async () => ({
        major: "1",
        minor: "32",
        gitVersion: "v1.32.4",
        platform: "linux/amd64",
      }),
      kubevirtVersion: async () => ({
        gitVersion: "v1.9.0",
        gitCommit: "79d34c17",
        buildDate: "2026-07-01T00:00:00Z",
      }),
      findKubeVirt: async () => kubevirtCr,
    },
    { server: "https://127.0.0.1:6443", context: "lab" },
  );
}

describe("kvmig version", () => {
  it("prints the three versions, and an upgrade in progress", async () => {
    const kube = healthyCluster();
    const { code, stdout, stderr } = await runCli(["version"], { kube });
    expect(code).toBe(ExitCode.ok);
    expect(stdout.split("\n")).toEqual([
      `kvmig:       ${kvmigVersion} (Node.js ${process.version})`,
      'Kubernetes:  v1.32.4 at https://127.0.0.1:6443 (context "lab")',
      "KubeVirt:    v1.9.0",
      "KubeVirt CR: kubevirt/kubevirt: Deployed, deployed v1.8.2, upgrading to v1.9.0",
      "",
    ]);
    expect(stderr).toBe("");
    kube.assertDone();
  });

  it("-o json: one object with the same facts", async () => {
    const kube = healthyCluster();
    const { code, stdout } = await runCli(["version", "-o", "json"], { kube });
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(stdout)).toEqual({
      kvmig: { version: kvmigVersion, node: process.version },
      kubernetes: {
        server: "https://127.0.0.1:6443",
        context: "lab",
        gitVersion: "v1.32.4",
        platform: "linux/amd64",
      },
      kubevirt: {
        version: "v1.9.0",
        gitCommit: "79d34c17",
        buildDate: "2026-07-01T00:00:00Z",
        resource: {
          namespace: "kubevirt",
          name: "kubevirt",
          phase: "Deployed",
          observedVersion: "v1.8.2",
          targetVersion: "v1.9.0",
        },
        errors: [],
      },
    });
  });

  it("what cannot be read about KubeVirt is a warning; the command still succeeds", async () => {
    const kube = fakeKube({
      serverVersion: async () => ({ gitVersion: "v1.31.0" }),
      kubevirtVersion: async () => {
        throw new ApiError(
          "the server could not find the requested resource",
          404,
          "NotFound",
          ExitCode.notFound,
        );
      },
      findKubeVirt: async () => undefined,
    });
    const { code, stdout, stderr } = await runCli(["version"], { kube });
    expect(code).toBe(ExitCode.ok);
    expect(stdout).toContain("\nKubeVirt:    unknown\n");
    expect(stderr.split("\n")).toEqual([
      "warning: virt-api version: the server could not find the requested resource",
      "warning: KubeVirt resource: none found in any namespace",
      "",
    ]);
  });

  it("an unreachable Kubernetes API fails the command with its error and hint", async () => {
    const kube = fakeKube({
      serverVersion: async () => {
        throw new ApiError("Unauthorized", 401, "Unauthorized", ExitCode.unauthorized, {
          hint: "log in again",
        });
      },
      kubevirtVersion: async () => ({ gitVersion: "v1.9.0" }),
      findKubeVirt: async () => kubevirtCr,
    });
    const { code, stdout, stderr } = await runCli(["version"], { kube });
    expect(code).toBe(ExitCode.unauthorized);
    expect(stdout).toBe("");
    expect(stderr).toBe("error: Unauthorized\nhint: log in again\n");
  });
});
