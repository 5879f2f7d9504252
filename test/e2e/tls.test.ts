// TLS verification is always on, unless --insecure-skip-tls-verify (or the kubeconfig's own
// insecure-skip-tls-verify, as kubectl honours it) turns it off, and then kvmig says so.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { tempDir } from "../helpers/kubeconfig.js";
import { createTestPki } from "../helpers/tls.js";
import { cliEnv, lines, runKvmig } from "./built-cli.js";
import { type SimCli, simCli } from "./sim-cli.js";

let sim: SimCli;
beforeAll(async () => {
  sim = await simCli({ manualTime: true });
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

/** The simulated cluster's kubeconfig, with its cluster entries changed by `edit`. */
function kubeconfig(edit: (cluster: Record<string, unknown>) => void): Record<string, string> {
  const config = YAML.parse(sim.cluster.kubeconfig());
  for (const entry of config.clusters) edit(entry.cluster);
  const home = tempDir();
  const path = join(home, "kubeconfig");
  writeFileSync(path, YAML.stringify(config), { mode: 0o600 });
  return cliEnv(home, { KUBECONFIG: path });
}

const warning = /^warning: the API server's certificate is not verified/;

describe("TLS verification", () => {
  it("on by default: the right CA works, with no warning", async () => {
    const result = await runKvmig(["version"], sim.env);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/certificate/);
  });

  it("a CA that did not sign the server's certificate: refused, exit 1, one line and a hint", async () => {
    const other = await createTestPki("someone-else");
    const env = kubeconfig((c) => {
      c["certificate-authority-data"] = Buffer.from(other.caPem).toString("base64");
    });
    const result = await runKvmig(["version"], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const [error, hint, ...rest] = lines(result.stderr);
    expect(error).toMatch(
      /^error: TLS verification failed for the API server at https:\/\/127\.0\.0\.1:\d+ \(context "sim-admin"\): /,
    );
    expect(hint).toBe(
      "hint: the certificate-authority in your kubeconfig does not match the server's certificate; fix the cluster's certificate-authority(-data) entry, or point --context at the right cluster (--insecure-skip-tls-verify skips the check, insecurely)",
    );
    expect(rest).toEqual([]);
  });

  it("a kubeconfig with no CA for the cluster: refused, exit 1, and the hint says the CA is missing", async () => {
    const env = kubeconfig((c) => {
      delete c["certificate-authority-data"];
    });
    const result = await runKvmig(["version"], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const [error, hint, ...rest] = lines(result.stderr);
    expect(error).toMatch(
      /^error: TLS verification failed for the API server at https:\/\/127\.0\.0\.1:\d+ \(context "sim-admin"\): /,
    );
    expect(hint).toBe(
      "hint: the server's certificate is not signed by a CA this system trusts, and the kubeconfig has no certificate-authority(-data) for its cluster; add the cluster's CA there (certificate-authority-data, or certificate-authority: FILE), or point --context at the right cluster (--insecure-skip-tls-verify skips the check, insecurely)",
    );
    expect(rest).toEqual([]);
  });

  it("--insecure-skip-tls-verify: the same kubeconfig works, and a warning says verification is off", async () => {
    const other = await createTestPki("someone-else");
    const env = kubeconfig((c) => {
      c["certificate-authority-data"] = Buffer.from(other.caPem).toString("base64");
    });
    const result = await runKvmig(["version", "--insecure-skip-tls-verify"], env);
    expect(result.code).toBe(0);
    const warnings = lines(result.stderr).filter((l) => warning.test(l));
    expect(warnings).toEqual([
      "warning: the API server's certificate is not verified (--insecure-skip-tls-verify); the connection can be read and changed",
    ]);
  });

  it("the kubeconfig's insecure-skip-tls-verify is honoured as kubectl does, with the warning naming it", async () => {
    const env = kubeconfig((c) => {
      delete c["certificate-authority-data"];
      c["insecure-skip-tls-verify"] = true;
    });
    const result = await runKvmig(["version"], env);
    expect(result.code).toBe(0);
    expect(lines(result.stderr).filter((l) => warning.test(l))).toEqual([
      `warning: the API server's certificate is not verified (insecure-skip-tls-verify in the kubeconfig's cluster "kvmig-sim"); the connection can be read and changed`,
    ]);
  });

  it("no CA at all and no flag: refused (verification is never silently off)", async () => {
    const env = kubeconfig((c) => {
      delete c["certificate-authority-data"];
    });
    const result = await runKvmig(["version"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: TLS verification failed/m);
  });
});
