// Our exec credential plugin runner (client-go's plugin/pkg/client/auth/exec, modelled): what the
// plugin is given (KUBERNETES_EXEC_INFO, env, args, stdin only when interactive), what it must
// answer, how long its credential is kept, and what a failing, missing or hanging plugin says.
// Against kubectl itself: test/e2e/kubectl-parity.test.ts.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ExecConfig,
  ExecPluginError,
  execCredentialSource,
  execInfo,
  parseCredential,
} from "../../src/k8s/exec-credential.js";
import { tempDir } from "../helpers/kubeconfig.js";

const v1 = "client.authentication.k8s.io/v1";
const cluster = { name: "k", server: "https://127.0.0.1:6443", skipTLSVerify: false, caData: "Q0E=" };
const what = "the plugin";

function plugin(body: string): string {
  const dir = tempDir();
  const path = join(dir, "plugin.sh");
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const options = { user: "u", context: "c", cluster, env: { PATH: process.env.PATH } };

describe("parseCredential: the plugin's answer, checked as client-go checks it", () => {
  const exec: ExecConfig = { command: "x", apiVersion: v1 };
  const answer = (status: unknown, apiVersion = v1) =>
    JSON.stringify({ apiVersion, kind: "ExecCredential", status });

  it("a token, kept for the whole run without expirationTimestamp", () => {
    expect(parseCredential(answer({ token: "t" }), exec, what)).toEqual({
      credential: { token: "t", cert: undefined, key: undefined },
      expiresAt: Number.POSITIVE_INFINITY,
    });
  });

  it("a client certificate and key, kept until expirationTimestamp", () => {
    const parsed = parseCredential(
      answer({
        clientCertificateData: "CERT",
        clientKeyData: "KEY",
        expirationTimestamp: "2030-01-01T00:00:00Z",
      }),
      exec,
      what,
      () => 0,
    );
    expect(parsed).toEqual({
      credential: { token: undefined, cert: "CERT", key: "KEY" },
      expiresAt: Date.parse("2030-01-01T00:00:00Z"),
    });
  });

  it.each([
    ["", "the plugin answered nothing"],
    ["not json", "the plugin answered something that is not JSON"],
    [JSON.stringify({ apiVersion: v1, kind: "Other" }), "the plugin answered no ExecCredential"],
    [
      answer({ token: "t" }, "client.authentication.k8s.io/v1beta1"),
      `the plugin answered apiVersion client.authentication.k8s.io/v1beta1, while the kubeconfig asks for ${v1}`,
    ],
    [JSON.stringify({ apiVersion: v1, kind: "ExecCredential" }), "the plugin answered no status"],
    [answer({}), "the plugin answered neither a token nor a client certificate"],
    [
      answer({ clientCertificateData: "CERT" }),
      "the plugin answered a client certificate without its key, or a key without one",
    ],
    [
      answer({ token: "t", expirationTimestamp: "soon" }),
      "the plugin answered an expirationTimestamp that is no time (soon)",
    ],
  ])("%s: refused", (stdout, message) => {
    expect(() => parseCredential(stdout, exec, what)).toThrow(message);
  });
});

describe("execInfo: KUBERNETES_EXEC_INFO", () => {
  it("the cluster only with provideClusterInfo, with the plugin's config", () => {
    expect(JSON.parse(execInfo({ command: "x", apiVersion: v1 }, cluster, false))).toEqual({
      kind: "ExecCredential",
      apiVersion: v1,
      spec: { interactive: false },
    });
    const info = JSON.parse(
      execInfo({ command: "x", apiVersion: v1, provideClusterInfo: true, config: { a: 1 } }, cluster, true),
    );
    expect(info.spec).toEqual({
      interactive: true,
      cluster: { server: cluster.server, "certificate-authority-data": "Q0E=", config: { a: 1 } },
    });
  });
});

describe("execCredentialSource: running the plugin", () => {
  it("env and args reach it, its credential is kept until it expires, then it runs again", async () => {
    const count = join(tempDir(), "count");
    const command = plugin(
      `echo run >> ${count}\nprintf '{"apiVersion":"${v1}","kind":"ExecCredential","status":{"token":"%s-%s","expirationTimestamp":"2030-01-01T00:00:00Z"}}' "$GREETING" "$1"`,
    );
    let now = Date.parse("2029-12-31T23:00:00Z");
    const source = execCredentialSource(
      {
        command,
        args: ["arg"],
        env: [{ name: "GREETING", value: "hi" }],
        apiVersion: v1,
        interactiveMode: "Never",
      },
      { ...options, now: () => now },
    );
    const [first, second] = await Promise.all([source(), source()]);
    expect(first.token).toBe("hi-arg");
    expect(second).toBe(first);
    expect(await source()).toBe(first);
    expect(readFileSync(count, "utf8")).toBe("run\n");
    now = Date.parse("2030-01-01T00:00:01Z");
    await source();
    expect(readFileSync(count, "utf8")).toBe("run\nrun\n");
  });

  it("a plugin that is not there: not found, with the kubeconfig's installHint as the hint", async () => {
    const error = await execCredentialSource(
      { command: "kvmig-no-such-plugin", apiVersion: v1, installHint: "brew install login\nmore" },
      options,
    )().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecPluginError);
    expect((error as ExecPluginError).message).toBe(
      'the credential plugin kvmig-no-such-plugin of user "u" (context "c") was not found on PATH',
    );
    expect((error as ExecPluginError).hint).toBe("brew install login");
  });

  it("interactiveMode Always without a terminal: refused before it runs", async () => {
    const error = await execCredentialSource(
      { command: plugin("exit 0"), apiVersion: v1, interactiveMode: "Always" },
      { ...options, stdinIsTerminal: false },
    )().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /must be interactive \(interactiveMode Always\), and stdin is not a terminal$/,
    );
  });

  it("an apiVersion we do not speak: refused", async () => {
    const error = await execCredentialSource(
      { command: plugin("exit 0"), apiVersion: "client.authentication.k8s.io/v1alpha1" },
      options,
    )().catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      "has apiVersion client.authentication.k8s.io/v1alpha1, which kvmig does not speak",
    );
  });

  it("a plugin that keeps us waiting: a note after the delay; an abort stops it", async () => {
    const notes: string[] = [];
    const controller = new AbortController();
    const command = plugin("sleep 30");
    const running = execCredentialSource(
      { command, writtenCommand: "./plugin.sh", apiVersion: v1, interactiveMode: "Never" },
      {
        ...options,
        signal: controller.signal,
        noteAfterMs: 10,
        note: (line) => {
          notes.push(line);
          controller.abort(new Error("stopped"));
        },
      },
    )();
    await expect(running).rejects.toThrow("stopped");
    expect(notes).toEqual(['waiting for the credential plugin ./plugin.sh of user "u" (context "c")...']);
  });
});
