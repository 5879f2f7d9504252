// The KubeVirt release of a virt-launcher, which says how its progress line's rates read: from the
// image's tag when it is an upstream release tag, else from the KubeVirt CR when the VMI's launcher
// is the cluster's current one; otherwise unknown, never guessed.
import { describe, expect, it } from "vitest";
import {
  kubevirtVersionOfLauncherImage,
  launcherKubeVirtVersion,
  outdatedLauncherImageLabel,
} from "../../src/k8s/launcher-image.js";
import type { KubeVirt, VirtualMachineInstance } from "../../src/k8s/types.js";

describe("kubevirtVersionOfLauncherImage", () => {
  it.each([
    ["quay.io/kubevirt/virt-launcher:v1.2.0", "v1.2.0"],
    ["registry.local:5000/kubevirt/virt-launcher:v1.1.1", "v1.1.1"],
    ["docker.io/kubevirt/virt-launcher:v1.3.0-rc.1", "v1.3.0-rc.1"],
    ["harbor.example.org/mirror/kv-virt-launcher:v1.0.1", "v1.0.1"],
    [`quay.io/kubevirt/virt-launcher:v1.9.0@sha256:${"a".repeat(64)}`, "v1.9.0"],
  ])("%s is KubeVirt %s", (image, version) => {
    expect(kubevirtVersionOfLauncherImage(image)).toBe(version);
  });

  it.each([
    ["a digest alone", `quay.io/kubevirt/virt-launcher@sha256:${"b".repeat(64)}`],
    ["no tag, behind a registry port", "registry.local:5000/kubevirt/virt-launcher"],
    ["a tag that is not a release", "quay.io/kubevirt/virt-launcher:latest"],
    ["a development tag", "quay.io/kubevirt/virt-launcher:devel"],
    [
      "a downstream image with its product's version",
      "registry.redhat.io/container-native-virtualization/virt-launcher-rhel9:v4.16.3",
    ],
    ["another image", "quay.io/kubevirt/virt-handler:v1.2.0"],
    ["nothing", undefined],
    ["empty", ""],
  ])("%s tells no release", (_, image) => {
    expect(kubevirtVersionOfLauncherImage(image)).toBeUndefined();
  });
});

const digestImage = `quay.io/kubevirt/virt-launcher@sha256:${"c".repeat(64)}`;

function vmi(outdated: boolean): VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: "db-0",
      namespace: "prod",
      ...(outdated ? { labels: { [outdatedLauncherImageLabel]: "" } } : {}),
    },
    spec: { domain: { devices: {} } },
    status: { launcherContainerImageVersion: digestImage },
  } as VirtualMachineInstance;
}

function kubevirt(status: NonNullable<KubeVirt["status"]>): KubeVirt {
  return { metadata: { name: "kubevirt", namespace: "kubevirt" }, spec: {}, status };
}

describe("launcherKubeVirtVersion", () => {
  const deployed = kubevirt({
    phase: "Deployed",
    observedKubeVirtVersion: "v1.2.0",
    targetKubeVirtVersion: "v1.2.0",
  });

  it("takes the image's tag first, even when the VMI is outdated and the CR says another release", () => {
    expect(launcherKubeVirtVersion("quay.io/kubevirt/virt-launcher:v1.1.1", vmi(true), deployed)).toBe(
      "v1.1.1",
    );
  });

  it("a digest-only launcher that is the cluster's current one is of the CR's observed release", () => {
    expect(launcherKubeVirtVersion(digestImage, vmi(false), deployed)).toBe("v1.2.0");
  });

  it.each([
    ["the VMI is labelled outdated", digestImage, vmi(true), deployed],
    ["the VMI is not known", digestImage, undefined, deployed],
    ["the launcher image is not known", undefined, vmi(false), deployed],
    ["the CR is not known", digestImage, vmi(false), undefined],
    [
      "an upgrade is under way",
      digestImage,
      vmi(false),
      kubevirt({ phase: "Deployed", observedKubeVirtVersion: "v1.2.0", targetKubeVirtVersion: "v1.3.0" }),
    ],
    [
      "the CR is still deploying",
      digestImage,
      vmi(false),
      kubevirt({ phase: "Deploying", observedKubeVirtVersion: "v1.2.0" }),
    ],
  ])("unknown when %s", (_, image, v, kv) => {
    expect(launcherKubeVirtVersion(image, v, kv)).toBeUndefined();
  });
});
