// Who may do what on the simulated cluster: bearer tokens for two users, an admin (everything)
// and a viewer (get, list, watch), with kube-apiserver's 401 and 403 answers and the
// SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview APIs kubectl uses.

import { randomBytes } from "node:crypto";
import { type SimApiError, statusError } from "./status.js";

export type Role = "admin" | "viewer";

export interface SimUser {
  readonly name: string;
  readonly groups: readonly string[];
  readonly role: Role;
  readonly token: string;
}

export interface RequestAttributes {
  verb: string;
  /** Empty for a non-resource request (`/version`, `/api`, ...). */
  resource?: string | undefined;
  subresource?: string | undefined;
  group?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  /** For non-resource requests. */
  path?: string | undefined;
}

const readVerbs = new Set(["get", "list", "watch"]);

/** The self-review APIs are open to every authenticated user, as `system:basic-user` grants. */
const selfReviews = new Set(["selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"]);

export function createUsers(): SimUser[] {
  const token = () => randomBytes(24).toString("base64url");
  return [
    { name: "sim-admin", groups: ["system:masters", "system:authenticated"], role: "admin", token: token() },
    { name: "sim-viewer", groups: ["system:authenticated"], role: "viewer", token: token() },
  ];
}

export function authenticate(
  users: readonly SimUser[],
  authorization: string | undefined,
): SimUser | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) return undefined;
  return users.find((user) => user.token === match[1]);
}

export function isAllowed(user: SimUser, attributes: RequestAttributes): boolean {
  if (user.role === "admin") return true;
  if (attributes.resource && selfReviews.has(attributes.resource) && attributes.verb === "create")
    return true;
  return readVerbs.has(attributes.verb);
}

/** The 403 of kube-apiserver's authorization filter, word for word. */
export function forbidden(user: SimUser, attributes: RequestAttributes): SimApiError {
  if (!attributes.resource) {
    return statusError(
      403,
      "Forbidden",
      `forbidden: User "${user.name}" cannot ${attributes.verb} path "${attributes.path}"`,
      {},
    );
  }
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  const group = attributes.group ?? "";
  const scope = attributes.namespace ? `in the namespace "${attributes.namespace}"` : "at the cluster scope";
  const reason = `User "${user.name}" cannot ${attributes.verb} resource "${resource}" in API group "${group}" ${scope}`;
  const groupResource = group === "" ? attributes.resource : `${attributes.resource}.${group}`;
  const subject = attributes.name ? `${groupResource} "${attributes.name}"` : groupResource;
  return statusError(403, "Forbidden", `${subject} is forbidden: ${reason}`, {
    ...(attributes.name ? { name: attributes.name } : {}),
    group,
    kind: attributes.resource,
  });
}

interface AccessReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

export function selfSubjectAccessReview(user: SimUser, body: { spec?: AccessReviewSpec }): object {
  const spec = body.spec ?? {};
  const attributes: RequestAttributes = spec.resourceAttributes
    ? {
        verb: spec.resourceAttributes.verb ?? "",
        resource: spec.resourceAttributes.resource ?? "",
        subresource: spec.resourceAttributes.subresource,
        group: spec.resourceAttributes.group,
        namespace: spec.resourceAttributes.namespace,
        name: spec.resourceAttributes.name,
      }
    : { verb: spec.nonResourceAttributes?.verb ?? "", path: spec.nonResourceAttributes?.path };
  const allowed = isAllowed(user, attributes);
  const status: { allowed: boolean; reason?: string } = { allowed };
  if (allowed) {
    status.reason =
      user.role === "admin"
        ? `RBAC: allowed by ClusterRoleBinding "${user.name}" of ClusterRole "cluster-admin" to User "${user.name}"`
        : `RBAC: allowed by ClusterRoleBinding "${user.name}" of ClusterRole "view" to User "${user.name}"`;
  }
  return {
    kind: "SelfSubjectAccessReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec,
    status,
  };
}

export function selfSubjectRulesReview(user: SimUser, body: { spec?: { namespace?: string } }): object {
  const verbs = user.role === "admin" ? ["*"] : ["get", "list", "watch"];
  return {
    kind: "SelfSubjectRulesReview",
    apiVersion: "authorization.k8s.io/v1",
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: {
      resourceRules: [
        {
          verbs: ["create"],
          apiGroups: ["authorization.k8s.io"],
          resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        },
        { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
        { verbs, apiGroups: ["*"], resources: ["*"] },
      ],
      nonResourceRules: [{ verbs: user.role === "admin" ? ["*"] : ["get"], nonResourceURLs: ["*"] }],
      incomplete: false,
    },
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
