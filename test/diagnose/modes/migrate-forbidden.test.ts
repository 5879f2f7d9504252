import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { migrateForbidden } from "../../../src/diagnose/modes/migrate-forbidden.js";
import type { Snapshot } from "../../../src/diagnose/types.js";
import { fixtureCases, fixtureDir, fixtureSnapshot } from "../../helpers/diagnose.js";

const id = "migrate-forbidden";

/** The fixture's snapshot with its saved 403 handed over as the caller (kvmig migrate) would. */
async function withRejection(caseName: string): Promise<Snapshot> {
  const s = await fixtureSnapshot(id, caseName);
  const status = parse(readFileSync(join(fixtureDir(id, caseName), "rejection-status.yaml"), "utf8")) as {
    code: number;
    reason?: string;
    message: string;
    details: { name: string };
  };
  const sub = /resource "virtualmachines\/(\w+)"/.exec(status.message)?.[1] ?? "migrate";
  return {
    ...s,
    rejections: [
      {
        request: `PUT virtualmachines/${status.details.name}/${sub}`,
        status: status.code,
        reason: status.reason,
        message: status.message,
      },
    ],
  };
}

describe(id, () => {
  test("has hit and near-miss fixtures", () => {
    const { hits, nearMisses } = fixtureCases(id);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(nearMisses.length).toBeGreaterThanOrEqual(1);
  });

  test("PR #7739: an edit user refused on virtualmachines/migrate (v0.53)", async () => {
    const s = await withRejection("pr7739-edit-user");
    const [f, ...rest] = migrateForbidden.detect(s);
    expect(rest).toEqual([]);
    expect(f?.id).toBe(id);
    expect(f?.severity).toBe("error");
    expect(f?.confidence).toBe("high");
    expect(f?.evidence[0]).toMatchObject({
      object: "PUT virtualmachines/db-1/migrate",
      field: "HTTP 403 Forbidden",
    });
    expect(f?.evidence[0]?.text).toContain(
      'User "dev" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "demo"',
    );
    expect(f?.summary).toContain("On KubeVirt v0.53.0");
    expect(f?.fix.commands).toContain(
      "kubectl create rolebinding kubevirt-migrate-dev -n demo --clusterrole=kubevirt.io:migrate --user=dev",
    );
    expect(f?.fix.commands).toContain(
      "kubectl create clusterrolebinding kubevirt-migrate-dev --clusterrole=kubevirt.io:migrate --user=dev",
    );
  });

  test("a namespace admin after the v1.5 RBAC change", async () => {
    const s = await withRejection("v1.5-namespace-admin");
    const [f] = migrateForbidden.detect(s);
    expect(f?.summary).toContain(
      "KubeVirt v1.5.0 (v1.5 and later) leaves migration out of the admin and edit roles",
    );
    expect(f?.fix.commands).toContain(
      "kubectl create rolebinding kubevirt-migrate-alice -n shop --clusterrole=kubevirt.io:migrate --user=alice",
    );
    expect(f?.fix.commands).toContain(
      'echo \'{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"update","group":"subresources.kubevirt.io","resource":"virtualmachines","subresource":"migrate","namespace":"shop"}}}\' | kubectl create --as=alice --validate=false -f - -o \'jsonpath={.status.allowed}\'',
    );
  });

  test("a service account gets a --serviceaccount binding", async () => {
    const base = await withRejection("v1.5-namespace-admin");
    const message =
      'virtualmachines.subresources.kubevirt.io "web-2" is forbidden: User "system:serviceaccount:shop:deployer" cannot update resource "virtualmachines/migrate" in API group "subresources.kubevirt.io" in the namespace "shop"';
    const s: Snapshot = {
      ...base,
      rejections: [{ request: "PUT virtualmachines/web-2/migrate", status: 403, message }],
    };
    const [f] = migrateForbidden.detect(s);
    expect(f?.fix.commands[0]).toBe(
      "kubectl create rolebinding kubevirt-migrate-system-serviceaccount-shop-deployer -n shop --clusterrole=kubevirt.io:migrate --serviceaccount=shop:deployer",
    );
  });

  test("the access review alone reports it, naming no user", async () => {
    const base: Snapshot = { ...(await fixtureSnapshot(id, "v1.5-namespace-admin")), rejections: [] };
    expect(migrateForbidden.detect(base)).toEqual([]);
    const [f] = migrateForbidden.detect({ ...base, canMigrate: false });
    expect(f?.evidence[0]).toMatchObject({ object: "SelfSubjectAccessReview", field: "status.allowed" });
    expect(f?.fix.commands[0]).toContain("'--user=<user>'");
  });

  test.each(fixtureCases(id).nearMisses)("near miss %s gives no finding", async (caseName) => {
    expect(migrateForbidden.detect(await withRejection(caseName))).toEqual([]);
    expect(migrateForbidden.detect(await fixtureSnapshot(id, caseName))).toEqual([]);
  });
});
