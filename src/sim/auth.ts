// Who may do what on the simulated cluster: bearer tokens for its users (sim-admin in
// system:masters, sim-viewer bound to a read-only ClusterRole, and any a test adds), RBAC
// decisions from rbac.ts, kube-apiserver's 401 and 403 answers, and the SelfSubjectAccessReview,
// SelfSubjectRulesReview and SelfSubjectReview APIs kubectl uses, answered by the same authorizer.

import { randomBytes } from "node:crypto";
import {
  aggregateErrors,
  isResourceRequest,
  type PolicyRule,
  privilegedGroup,
  type RbacAuthorizer,
  type RequestAttributes,
} from "./rbac.js";
import { badRequest, type SimApiError, statusError } from "./status.js";

export type { RequestAttributes } from "./rbac.js";

export interface SimUser {
  readonly name: string;
  /** Always with `system:authenticated`, as every authenticator adds it. */
  readonly groups: readonly string[];
  readonly token: string;
}

export const authenticatedGroup = "system:authenticated";

function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** A user with a fresh token, in `groups` and system:authenticated. */
export function newUser(name: string, groups: readonly string[] = []): SimUser {
  const all = [...groups.filter((g) => g !== authenticatedGroup), authenticatedGroup];
  return { name, groups: all, token: newToken() };
}

/** The users every simulated cluster has: the admin (a superuser) and the viewer (RBAC: sim-viewer). */
export function createUsers(): SimUser[] {
  return [newUser("sim-admin", [privilegedGroup]), newUser("sim-viewer")];
}

export function authenticate(
  users: readonly SimUser[],
  authorization: string | undefined,
): SimUser | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) return undefined;
  return users.find((user) => user.token === match[1]);
}

/** The request's authorization, as the API server's filter does it: a 403 unless RBAC allows. */
export function authorize(authorizer: RbacAuthorizer, user: SimUser, attributes: RequestAttributes): void {
  const decision = authorizer.authorize(user, attributes);
  if (!decision.allowed) throw forbidden(user, attributes, decision.reason);
}

/** The 403 of kube-apiserver's authorization filter, word for word (with RBAC's errors, if any). */
export function forbidden(user: SimUser, attributes: RequestAttributes, reason = ""): SimApiError {
  const suffix = reason === "" ? "" : `: ${reason}`;
  if (!isResourceRequest(attributes)) {
    return statusError(
      403,
      "Forbidden",
      `forbidden: User "${user.name}" cannot ${attributes.verb} path "${attributes.path}"${suffix}`,
      {},
    );
  }
  const resourceName = attributes.resource ?? "";
  const resource = attributes.subresource ? `${resourceName}/${attributes.subresource}` : resourceName;
  const group = attributes.group ?? "";
  const scope = attributes.namespace ? `in the namespace "${attributes.namespace}"` : "at the cluster scope";
  const because = `User "${user.name}" cannot ${attributes.verb} resource "${resource}" in API group "${group}" ${scope}`;
  const groupResource = group === "" ? resourceName : `${resourceName}.${group}`;
  const subject = attributes.name ? `${groupResource} "${attributes.name}"` : groupResource;
  return statusError(403, "Forbidden", `${subject} is forbidden: ${because}${suffix}`, {
    ...(attributes.name ? { name: attributes.name } : {}),
    group,
    kind: resourceName,
  });
}

interface AccessReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

export function selfSubjectAccessReview(
  authorizer: RbacAuthorizer,
  user: SimUser,
  body: { spec?: AccessReviewSpec },
): object {
  const spec = body.spec ?? {};
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    throw statusError(
      422,
      "Invalid",
      `SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`,
      {
        group: "authorization.k8s.io",
        kind: "SelfSubjectAccessReview",
        causes: [
          {
            reason: "FieldValueInvalid",
            message:
              'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
            field: "spec.resourceAttributes",
          },
        ],
      },
    );
  }
  const attributes: RequestAttributes = spec.resourceAttributes
    ? {
        verb: spec.resourceAttributes.verb ?? "",
        resource: spec.resourceAttributes.resource ?? "",
        subresource: spec.resourceAttributes.subresource,
        group: spec.resourceAttributes.group,
        namespace: spec.resourceAttributes.namespace,
        name: spec.resourceAttributes.name,
      }
    : { verb: spec.nonResourceAttributes?.verb ?? "", path: spec.nonResourceAttributes?.path ?? "" };
  const decision = authorizer.authorize(user, attributes);
  const status: { allowed: boolean; reason?: string } = { allowed: decision.allowed };
  if (decision.reason !== "") status.reason = decision.reason;
  return {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec,
    status,
  };
}

function resourceRule(rule: PolicyRule): object {
  return {
    verbs: rule.verbs,
    ...((rule.apiGroups ?? []).length > 0 ? { apiGroups: rule.apiGroups } : {}),
    ...((rule.resources ?? []).length > 0 ? { resources: rule.resources } : {}),
    ...((rule.resourceNames ?? []).length > 0 ? { resourceNames: rule.resourceNames } : {}),
  };
}

export function selfSubjectRulesReview(
  authorizer: RbacAuthorizer,
  user: SimUser,
  body: { spec?: { namespace?: string } },
): object {
  const { rules, errors } = authorizer.rulesFor(user, body.spec?.namespace ?? "");
  const status: Record<string, unknown> = {
    resourceRules: rules.filter((r) => (r.resources ?? []).length > 0).map(resourceRule),
    nonResourceRules: rules
      .filter((r) => (r.nonResourceURLs ?? []).length > 0)
      .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
    incomplete: errors.length > 0,
  };
  if (errors.length > 0) status.evaluationError = aggregateErrors(errors);
  return {
    kind: "SelfSubjectRulesReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status,
  };
}

export function selfSubjectReview(user: SimUser): object {
  return {
    kind: "SelfSubjectReview",
    apiVersion: "authentication.k8s.io/v1",
    metadata: { creationTimestamp: null },
    status: { userInfo: { username: user.name, groups: [...user.groups] } },
  };
}

/**
 * The user a request acts as: its own, or the one its Impersonate-User, -Group and -Uid headers
 * name when RBAC lets it impersonate each (the `impersonate` verb on users, groups, uids or a
 * service account), as kube-apiserver's impersonation filter
 * (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go) does.
 */
export function impersonated(
  authorizer: RbacAuthorizer,
  user: SimUser,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): SimUser {
  const values = (name: string): string[] => {
    const value = headers[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };
  const [name] = values("impersonate-user");
  const groups = values("impersonate-group");
  const [uid] = values("impersonate-uid");
  if (name === undefined) {
    if (groups.length > 0 || uid !== undefined) {
      throw badRequest(
        `requested ${JSON.stringify([...groups.map((g) => ({ Group: g })), ...(uid ? [{ UID: uid }] : [])])} without impersonating a user`,
      );
    }
    return user;
  }
  const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  const checks: RequestAttributes[] = [
    serviceAccount
      ? {
          verb: "impersonate",
          resource: "serviceaccounts",
          group: "",
          namespace: serviceAccount[1],
          name: serviceAccount[2],
        }
      : { verb: "impersonate", resource: "users", group: "", name },
    ...groups.map((group) => ({ verb: "impersonate", resource: "groups", group: "", name: group })),
    ...(uid !== undefined
      ? [{ verb: "impersonate", resource: "uids", group: "authentication.k8s.io", name: uid }]
      : []),
  ];
  for (const attributes of checks) authorize(authorizer, user, attributes);
  const all = [...groups];
  if (serviceAccount) all.push("system:serviceaccounts", `system:serviceaccounts:${serviceAccount[1]}`);
  if (name !== "system:anonymous" && !all.includes(authenticatedGroup)) all.push(authenticatedGroup);
  return { name, groups: all, token: "" };
}
