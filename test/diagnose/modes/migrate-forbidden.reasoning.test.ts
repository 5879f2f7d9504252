// migrate-forbidden's reasoning on hand-built snapshots: which rejections count as a refusal to
// migrate, how the KubeVirt version changes the explanation (the v1.5 RBAC change), and the
// binding names and subjects the fix commands use.

import { describe, expect, it } from "vitest";
import { migrateForbidden } from "../../../src/diagnose/modes/migrate-forbidden.js";
import type { ApiRejection, Finding, Snapshot } from "../../../src/diagnose/types.js";
import type { KubeVirt } from "../../../src/k8s/types.js";
import { emptySnapshot } from "../../helpers/diagnose.js";

const ns = "shop";

function denial(user: string | undefined, overrides: Partial<ApiRejection> = {}): ApiRejection {
  const who = user === undefined ? "" : `User "${user}" cannot update resource `;
  return {
    request: "PUT virtualmachines/web-1/migrate",
    status: 403,
    message: `virtualmachines.subresources.kubevirt.io "web-1" is forbidden: ${who}"virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "${ns}"`,
    ...overrides,
  };
}

function kubevirt(version: string | undefined, name: string | null = "kubevirt"): KubeVirt {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "KubeVirt",
    metadata: { ...(name === null ? {} : { name }), namespace: "kubevirt" },
    spec: {},
    status: version === undefined ? {} : { observedKubeVirtVersion: version },
  } as KubeVirt;
}

function snapshot(parts: Partial<Snapshot>): Snapshot {
  return emptySnapshot({ namespace: ns, vmName: "web-1", ...parts });
}

function detectOne(s: Snapshot): Finding {
  const findings = migrateForbidden.detect(s);
  expect(findings).toHaveLength(1);
  return findings[0] as Finding;
}

const reviewCheck = (as: string) =>
  `echo '{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"update","group":"subresources.kubevirt.io","resource":"virtualmachines","subresource":"migrate","namespace":"${ns}"}}}' | kubectl create ${as}--validate=false -f - -o 'jsonpath={.status.allowed}'`;

describe("migrate-forbidden reasoning", () => {
  it("reports a refused migrate call in full: evidence, summary for v1.5+, the three commands", () => {
    const rejection = denial("alice", { reason: "Forbidden", at: "2025-03-01T11:59:00Z" });
    const f = detectOne(snapshot({ rejections: [rejection], kubevirt: kubevirt("v1.5.0", "kv") }));
    expect(f).toEqual({
      id: "migrate-forbidden",
      title: "Not allowed to migrate this VM",
      severity: "error",
      confidence: "high",
      summary:
        "User alice may not update virtualmachines/migrate in shop. KubeVirt v1.5.0 (v1.5 and later) leaves migration out of the admin and edit roles; it needs the ClusterRole kubevirt.io:migrate.",
      evidence: [
        {
          object: "PUT virtualmachines/web-1/migrate",
          field: "HTTP 403 Forbidden",
          time: "2025-03-01T11:59:00Z",
          text: rejection.message,
        },
        { object: "KubeVirt/kv", field: "status.observedKubeVirtVersion", text: "v1.5.0" },
      ],
      fix: {
        explanation:
          "A cluster administrator binds kubevirt.io:migrate to the user, for this namespace only (RoleBinding) or cluster-wide (ClusterRoleBinding). It also lets the user cancel migrations.",
        commands: [
          "kubectl create rolebinding kubevirt-migrate-alice -n shop --clusterrole=kubevirt.io:migrate --user=alice",
          "kubectl create clusterrolebinding kubevirt-migrate-alice --clusterrole=kubevirt.io:migrate --user=alice",
          reviewCheck("--as=alice "),
        ],
      },
      docs: "https://kubevirt.io/user-guide/cluster_admin/authorization/",
    });
    expect(f.notChecked).toBeUndefined();
  });

  it("shows the status code alone when the rejection has no reason", () => {
    const f = detectOne(snapshot({ rejections: [denial("alice")] }));
    expect(f.evidence[0]?.field).toBe("HTTP 403");
  });

  it("counts only 403s on the migrate subresource or on writing migrations", () => {
    const other = (overrides: Partial<ApiRejection>) =>
      migrateForbidden.detect(snapshot({ rejections: [denial("alice", overrides)] }));
    // Not a 403.
    expect(other({ status: 401 })).toEqual([]);
    expect(other({ status: 500 })).toEqual([]);
    // A 403 on something else: restart.
    expect(
      other({
        request: "PUT virtualmachines/web-1/restart",
        message:
          'User "alice" cannot update resource "virtualmachines/restart" in API group "subresources.kubevirt.io"',
      }),
    ).toEqual([]);
    // The request names the subresource, the message does not.
    expect(other({ message: "forbidden" })).toHaveLength(1);
    // The request uses the long form virtualmachines/<name>/migrate.
    expect(other({ request: "PUT apis/x/virtualmachines/web-1/migrate", message: "forbidden" })).toHaveLength(
      1,
    );
    // The message names the subresource, the request does not.
    expect(other({ request: "POST something" })).toHaveLength(1);
    // Creating (or deleting, patching, updating) a VirtualMachineInstanceMigration.
    for (const verb of ["create", "delete", "update", "patch"]) {
      expect(
        other({
          request: "POST virtualmachineinstancemigrations",
          message: `User "alice" cannot ${verb} resource "virtualmachineinstancemigrations" in API group "kubevirt.io"`,
        }),
        verb,
      ).toHaveLength(1);
    }
    // Reading them is not migrating.
    expect(
      other({
        request: "GET virtualmachineinstancemigrations",
        message:
          'User "alice" cannot list resource "virtualmachineinstancemigrations" in API group "kubevirt.io"',
      }),
    ).toEqual([]);
  });

  it("stays silent without a denial unless the access review said no", () => {
    expect(migrateForbidden.detect(snapshot({}))).toEqual([]);
    expect(migrateForbidden.detect(snapshot({ canMigrate: true }))).toEqual([]);
    const f = detectOne(snapshot({ canMigrate: false }));
    expect(f.confidence).toBe("high");
    expect(f.evidence).toEqual([
      {
        object: "SelfSubjectAccessReview",
        field: "status.allowed",
        text: "false for update virtualmachines/migrate (subresources.kubevirt.io) in shop",
      },
    ]);
    expect(f.summary).toBe(
      "The current user may not update virtualmachines/migrate in shop. Since KubeVirt v1.5 namespace admins need the ClusterRole kubevirt.io:migrate to migrate.",
    );
    expect(f.fix.commands).toEqual([
      "kubectl create rolebinding kubevirt-migrate-user -n shop --clusterrole=kubevirt.io:migrate '--user=<user>'",
      "kubectl create clusterrolebinding kubevirt-migrate-user --clusterrole=kubevirt.io:migrate '--user=<user>'",
      reviewCheck(""),
    ]);
  });

  it("adds the access review to a denial only when the review said no", () => {
    const allowed = detectOne(snapshot({ rejections: [denial("alice")], canMigrate: true }));
    expect(allowed.evidence.map((e) => e.object)).toEqual(["PUT virtualmachines/web-1/migrate"]);
    const refused = detectOne(snapshot({ rejections: [denial("alice")], canMigrate: false }));
    expect(refused.evidence.map((e) => e.object)).toEqual([
      "PUT virtualmachines/web-1/migrate",
      "SelfSubjectAccessReview",
    ]);
  });

  it("explains by version: v1.5 and later need kubevirt.io:migrate, older ones had it in admin and edit", () => {
    const summary = (version: string) =>
      detectOne(snapshot({ rejections: [denial("alice")], kubevirt: kubevirt(version) })).summary;
    const since15 = "(v1.5 and later) leaves migration out of the admin and edit roles";
    const before15 = "the admin and edit roles include it, so this user has neither";
    expect(summary("v1.5.0")).toContain(`KubeVirt v1.5.0 ${since15}`);
    expect(summary("1.6.2")).toContain(`KubeVirt 1.6.2 ${since15}`);
    expect(summary("v2.0.0")).toContain(`KubeVirt v2.0.0 ${since15}`);
    expect(summary("v1.4.3")).toBe(
      `User alice may not update virtualmachines/migrate in shop. On KubeVirt v1.4.3 ${before15}; kubevirt.io:migrate (v1.5+) or admin grants it.`,
    );
    expect(summary("v0.59.0")).toContain(`On KubeVirt v0.59.0 ${before15}`);
    // A version it cannot read is named, but not placed before or after v1.5.
    expect(summary("main-abcdef")).toContain(`On KubeVirt main-abcdef ${before15}`);
    expect(summary("x1.5.0")).toContain(`On KubeVirt x1.5.0 ${before15}`);
  });

  it("names the KubeVirt object the version came from, and leaves it out when there is no version", () => {
    const named = detectOne(snapshot({ rejections: [denial("alice")], kubevirt: kubevirt("v1.5.0", null) }));
    expect(named.evidence[1]).toEqual({
      object: "KubeVirt/kubevirt",
      field: "status.observedKubeVirtVersion",
      text: "v1.5.0",
    });
    const noVersion = detectOne(snapshot({ rejections: [denial("alice")], kubevirt: kubevirt(undefined) }));
    expect(noVersion.evidence).toHaveLength(1);
    expect(noVersion.summary).toContain("Since KubeVirt v1.5 namespace admins need");
  });

  it("takes the user from the first denial that names one", () => {
    const f = detectOne(snapshot({ rejections: [denial(undefined), denial("bob"), denial("carol")] }));
    expect(f.summary).toMatch(/^User bob may not/);
    expect(f.evidence).toHaveLength(3);
    expect(f.fix.commands[0]).toBe(
      "kubectl create rolebinding kubevirt-migrate-bob -n shop --clusterrole=kubevirt.io:migrate --user=bob",
    );
    expect(f.fix.commands[2]).toBe(reviewCheck("--as=bob "));
  });

  it("binds a service account as --serviceaccount, anything else as --user", () => {
    const sa = detectOne(snapshot({ rejections: [denial("system:serviceaccount:ci:deployer")] }));
    expect(sa.fix.commands[1]).toBe(
      "kubectl create clusterrolebinding kubevirt-migrate-system-serviceaccount-ci-deployer --clusterrole=kubevirt.io:migrate --serviceaccount=ci:deployer",
    );
    // Not a service account name: the prefix must start the user name.
    const user = detectOne(snapshot({ rejections: [denial("x-system:serviceaccount:ci:deployer")] }));
    expect(user.fix.commands[1]).toBe(
      "kubectl create clusterrolebinding kubevirt-migrate-x-system-serviceaccount-ci-deployer --clusterrole=kubevirt.io:migrate --user=x-system:serviceaccount:ci:deployer",
    );
    // A service account name needs a namespace and a name.
    const short = detectOne(snapshot({ rejections: [denial("system:serviceaccount:ci")] }));
    expect(short.fix.commands[1]).toContain("--user=system:serviceaccount:ci");
  });

  it("makes a valid binding name from any user name: lower case, one dash per run, at most 63 characters", () => {
    const bindingOf = (user: string) => {
      const command = detectOne(snapshot({ rejections: [denial(user)] })).fix.commands[1] ?? "";
      return command.split(" ")[3];
    };
    expect(bindingOf("Dev.User@Example.COM")).toBe("kubevirt-migrate-dev-user-example-com");
    expect(bindingOf("a..b")).toBe("kubevirt-migrate-a-b");
    const long = bindingOf("y".repeat(60));
    expect(long).toBe(`kubevirt-migrate-${"y".repeat(46)}`);
    expect(long).toHaveLength(63);
    // Dashes left at the end (after the cut) are all dropped.
    expect(bindingOf(`${"x".repeat(43)}-.-`)).toBe(`kubevirt-migrate-${"x".repeat(43)}`);
    expect(bindingOf("ops-")).toBe("kubevirt-migrate-ops");
  });

  it("reads two-digit major and minor versions, and a KubeVirt resource without status", () => {
    const summary = (version: string) =>
      detectOne(snapshot({ rejections: [denial("alice")], kubevirt: kubevirt(version) })).summary;
    expect(summary("v1.10.0")).toContain("KubeVirt v1.10.0 (v1.5 and later)");
    expect(summary("v10.0.0")).toContain("KubeVirt v10.0.0 (v1.5 and later)");
    const bare = { ...kubevirt(undefined), status: undefined } as unknown as KubeVirt;
    expect(detectOne(snapshot({ rejections: [denial("alice")], kubevirt: bare })).summary).toContain(
      "Since KubeVirt v1.5 namespace admins need",
    );
    expect(migrateForbidden.severity).toBe("error");
  });
});
