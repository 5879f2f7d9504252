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
      "Supports:    KubeVirt v1.0 to v1.9",
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
      kvmig: {
        version: kvmigVersion,
        node: process.version,
        supportedKubeVirt: { oldest: "v1.0", newest: "v1.9" },
      },
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
        support: "supported",
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

  function clusterAt(observed: string | undefined, virtApi: string) {
    return fakeKube({
      serverVersion: async () => ({ gitVersion: "v1.31.0" }),
      kubevirtVersion: async () => ({ gitVersion: virtApi }),
      findKubeVirt: async () => ({
        ...kubevirtCr,
        status: { phase: "Deployed", observedKubeVirtVersion: observed, targetKubeVirtVersion: observed },
      }),
    });
  }

  it("a KubeVirt older than the range: a warning naming both versions, exit 0", async () => {
    const kube = clusterAt("v0.59.2", "v0.59.2");
    const { code, stdout, stderr } = await runCli(["version"], { kube });
    expect(code).toBe(ExitCode.ok);
    expect(stdout).toContain("\nSupports:    KubeVirt v1.0 to v1.9\n");
    expect(stderr).toBe(
      "warning: KubeVirt v0.59.2 is older than v1.0.0, the oldest version kvmig supports; upgrade KubeVirt\n",
    );
    const json = await runCli(["version", "-o", "json"], { kube: clusterAt("v0.59.2", "v0.59.2") });
    expect(JSON.parse(json.stdout).kubevirt.support).toBe("older");
  });

  it("a KubeVirt newer than the range: a warning that what kvmig reads may have changed, exit 0", async () => {
    const { code, stderr } = await runCli(["version"], { kube: clusterAt("v1.10.1", "v1.10.1") });
    expect(code).toBe(ExitCode.ok);
    expect(stderr).toBe(
      "warning: KubeVirt v1.10.1 is newer than v1.9, the newest version kvmig supports; what kvmig reads may have changed: look for a newer kvmig\n",
    );
    const json = await runCli(["version", "-o", "json"], { kube: clusterAt("v1.10.1", "v1.10.1") });
    expect(JSON.parse(json.stdout).kubevirt.support).toBe("newer");
  });

  it("the CR's version, when it is not a release, gives way to virt-api's", async () => {
    const { stderr } = await runCli(["version"], { kube: clusterAt("sha256:0a1b2c3d", "v1.10.0") });
    expect(stderr).toBe(
      "warning: KubeVirt v1.10.0 is newer than v1.9, the newest version kvmig supports; what kvmig reads may have changed: look for a newer kvmig\n",
    );
  });

  it("a version that is not a release: no support claim either way", async () => {
    const { code, stdout, stderr } = await runCli(["version", "-o", "json"], {
      kube: clusterAt(undefined, "devel"),
    });
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(stdout).kubevirt).not.toHaveProperty("support");
    expect(stderr).toBe("");
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
