// The supported KubeVirt range, one source for `kvmig version`, the pre-flight check and the README.
import { describe, expect, it } from "vitest";
import {
  isNewerThanSupported,
  isOlderThan,
  parseKubeVirtVersion,
  supportedKubeVirtRange,
  supportOf,
} from "../../src/k8s/kubevirt-version.js";

describe("the supported KubeVirt range", () => {
  it("is v1.0 to v1.9", () => {
    expect(supportedKubeVirtRange()).toBe("v1.0 to v1.9");
  });

  it.each([
    ["v0.59.2", "older"],
    ["v1.0.0-rc.1", "supported"],
    ["v1.0.0", "supported"],
    ["1.4.2", "supported"],
    ["v1.9.0", "supported"],
    ["v1.9.7", "supported"],
    ["v1.9.0-alpha.0-123-gabcdef0", "supported"],
    ["v1.10.0-alpha.0", "newer"],
    ["v1.10.0", "newer"],
    ["v2.0.0", "newer"],
  ])("%s is %s", (version, support) => {
    expect(supportOf(version)).toBe(support);
  });

  it.each([undefined, "", "latest", "sha256:0a1b2c", "unknown"])("%s cannot be placed", (version) => {
    expect(supportOf(version)).toBeUndefined();
    expect(isOlderThan(version ?? "")).toBe(false);
    expect(isNewerThanSupported(version ?? "")).toBe(false);
  });

  it("reads versions with and without v, patch and pre-release", () => {
    expect(parseKubeVirtVersion("v1.9")).toEqual([1, 9, 0]);
    expect(parseKubeVirtVersion("1.2.1-rc.0")).toEqual([1, 2, 1]);
    expect(parseKubeVirtVersion("v1.2x")).toBeUndefined();
  });
});
