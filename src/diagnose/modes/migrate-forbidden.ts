// migrate-forbidden: the user may not migrate. Since KubeVirt v1.5 the aggregated admin and edit
// roles no longer include `update` on `virtualmachines/migrate` (subresources.kubevirt.io) nor
// write access to VirtualMachineInstanceMigrations; the ClusterRole `kubevirt.io:migrate` grants
// them (facts §a RBAC). The API server answers 403 with "... cannot update resource
// \"virtualmachines/migrate\" in API group \"subresources.kubevirt.io\" ...".

import { accessCheckCommand } from "../../k8s/access-check.js";
import { commandLine } from "../../util/shell.js";
import type { ApiRejection, Evidence, Finding, Rule, Snapshot } from "../types.js";

const id = "migrate-forbidden";
const title = "Not allowed to migrate this VM";
const docs = "https://kubevirt.io/user-guide/cluster_admin/authorization/";
const subresource = /virtualmachines\/migrate|virtualmachines\/[^/\s]+\/migrate/;
const vmimWrite = /cannot (create|delete|update|patch) resource "virtualmachineinstancemigrations"/;
const userOf = /User "([^"]+)" cannot/;
const serviceAccount = /^system:serviceaccount:([^:]+):(.+)$/;

function isMigrateDenial(r: ApiRejection): boolean {
  return (
    r.status === 403 &&
    (subresource.test(r.request) || subresource.test(r.message) || vmimWrite.test(r.message))
  );
}

function minorVersion(v: string | undefined): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(v ?? "");
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export const migrateForbidden: Rule = {
  id,
  title,
  severity: "error",
  detect(s: Snapshot): Finding[] {
    const denials = s.rejections.filter(isMigrateDenial);
    if (denials.length === 0 && s.canMigrate !== false) return [];
    const evidence: Evidence[] = denials.map((r) => ({
      object: r.request,
      field: `HTTP ${r.status}${r.reason ? ` ${r.reason}` : ""}`,
      time: r.at,
      text: r.message,
    }));
    if (s.canMigrate === false) {
      evidence.push({
        object: "SelfSubjectAccessReview",
        field: "status.allowed",
        text: `false for update virtualmachines/migrate (subresources.kubevirt.io) in ${s.namespace}`,
      });
    }
    const user = denials.map((r) => userOf.exec(r.message)?.[1]).find((u) => u !== undefined);
    const version = s.kubevirt?.status?.observedKubeVirtVersion;
    const minor = minorVersion(version);
    const since15 = minor !== undefined && (minor[0] > 1 || (minor[0] === 1 && minor[1] >= 5));
    if (version) {
      evidence.push({
        object: `KubeVirt/${s.kubevirt?.metadata.name ?? "kubevirt"}`,
        field: "status.observedKubeVirtVersion",
        text: version,
      });
    }
    const subject = (() => {
      if (!user) return ["--user=<user>"];
      const sa = serviceAccount.exec(user);
      return sa ? [`--serviceaccount=${sa[1]}:${sa[2]}`] : [`--user=${user}`];
    })();
    const bindingName = `kubevirt-migrate-${(user ?? "user").replace(/[^a-z0-9-]+/gi, "-").toLowerCase()}`
      .slice(0, 63)
      .replace(/-+$/, "");
    return [
      {
        id,
        title,
        severity: "error",
        confidence: denials.length > 0 || s.canMigrate === false ? "high" : "medium",
        summary:
          `${user ? `User ${user}` : "The current user"} may not update virtualmachines/migrate in ${s.namespace}. ` +
          (since15
            ? `KubeVirt ${version} (v1.5 and later) leaves migration out of the admin and edit roles; it needs the ClusterRole kubevirt.io:migrate.`
            : version
              ? `On KubeVirt ${version} the admin and edit roles include it, so this user has neither; kubevirt.io:migrate (v1.5+) or admin grants it.`
              : "Since KubeVirt v1.5 namespace admins need the ClusterRole kubevirt.io:migrate to migrate."),
        evidence,
        fix: {
          explanation:
            "A cluster administrator binds kubevirt.io:migrate to the user, for this namespace only (RoleBinding) or cluster-wide (ClusterRoleBinding). It also lets the user cancel migrations.",
          commands: [
            commandLine([
              "kubectl",
              "create",
              "rolebinding",
              bindingName,
              "-n",
              s.namespace,
              "--clusterrole=kubevirt.io:migrate",
              ...subject,
            ]),
            commandLine([
              "kubectl",
              "create",
              "clusterrolebinding",
              bindingName,
              "--clusterrole=kubevirt.io:migrate",
              ...subject,
            ]),
            accessCheckCommand(
              {
                verb: "update",
                group: "subresources.kubevirt.io",
                resource: "virtualmachines",
                subresource: "migrate",
                namespace: s.namespace,
              },
              user,
            ),
          ],
        },
        docs,
      },
    ];
  },
};
