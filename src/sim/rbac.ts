// RBAC in the simulated cluster, as kube-apiserver's RBAC authorizer evaluates it
// (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac, pkg/registry/rbac/validation): the rule
// matching (verbs, API groups, `resource/subresource` with `*` and `*/sub`, resourceNames,
// nonResourceURLs with a trailing `*`), which bindings apply to a user (User, Group,
// ServiceAccount subjects; ClusterRoleBindings everywhere, RoleBindings in their namespace), the
// reasons SelfSubjectAccessReview reports, the rules SelfSubjectRulesReview lists, the API
// server's validation of the four kinds, and kube-controller-manager's ClusterRole aggregation.
// The roles and bindings themselves are objects in the store, served under
// rbac.authorization.k8s.io/v1; rbac-policy.ts holds the ones a cluster starts with.

import type { StatusCause } from "../k8s/meta.js";
import type { SimResource } from "./registry.js";
import type { Change, SimObject } from "./sim-object.js";

/** What a request asks to do, as the authorizer sees it (auth.ts builds it). */
export interface RequestAttributes {
  verb: string;
  /** Undefined for a non-resource request (`/version`, `/api`, ...). */
  resource?: string | undefined;
  subresource?: string | undefined;
  group?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  /** For non-resource requests. */
  path?: string | undefined;
}

/** What RBAC reads and writes of the store (store.ts's Store): without importing the store, which validates RBAC objects with this module. */
export interface RbacStore {
  list(storage: string, namespace?: string): SimObject[];
  peek(storage: string, namespace: string | undefined, name: string): SimObject | undefined;
  update(res: SimResource, input: SimObject, options?: { user?: string | undefined }): SimObject;
  subscribe(listener: (change: Change) => void): () => void;
}

export const rbacGroup = "rbac.authorization.k8s.io";

/** Where the four kinds live in the store. */
export const rbacStorage = {
  roles: `roles.${rbacGroup}`,
  clusterRoles: `clusterroles.${rbacGroup}`,
  roleBindings: `rolebindings.${rbacGroup}`,
  clusterRoleBindings: `clusterrolebindings.${rbacGroup}`,
} as const;

/** The group whose members may do anything, whatever RBAC says (kube-apiserver's superuser group). */
export const privilegedGroup = "system:masters";

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface RoleObject extends SimObject {
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: LabelSelectorSpec[] } | null;
}

export interface BindingObject extends SimObject {
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Rules (rbacv1helpers: VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches,
// NonResourceURLMatches; rbac.RuleAllows)

/** A resource request (`/api/...`, `/apis/...` with a resource) as opposed to a non-resource URL. */
export function isResourceRequest(attributes: RequestAttributes): boolean {
  return attributes.resource !== undefined;
}

function matchesOrAll(values: readonly string[] | undefined, wanted: string): boolean {
  return (values ?? []).some((value) => value === "*" || value === wanted);
}

export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const resource of rule.resources ?? []) {
    if (resource === "*" || resource === combined) return true;
    // `*/status` matches the status subresource of any resource.
    if (subresource !== "" && resource === `*/${subresource}`) return true;
  }
  return false;
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === "*" || url === path) return true;
    if (url.endsWith("*") && path.startsWith(url.replace(/\*+$/, ""))) return true;
  }
  return false;
}

/** Whether one rule allows the request; a rule with resourceNames never allows an unnamed request. */
export function ruleAllows(rule: PolicyRule, attributes: RequestAttributes): boolean {
  if (!matchesOrAll(rule.verbs, attributes.verb)) return false;
  if (!isResourceRequest(attributes)) return nonResourceURLMatches(rule, attributes.path ?? "");
  const subresource = attributes.subresource ?? "";
  const combined = subresource === "" ? (attributes.resource ?? "") : `${attributes.resource}/${subresource}`;
  if (!matchesOrAll(rule.apiGroups, attributes.group ?? "")) return false;
  if (!resourceMatches(rule, combined, subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attributes.name ?? "");
}

// ---------------------------------------------------------------------------------------------
// Subjects and bindings (rbac/validation: appliesTo, appliesToUser, describeSubject)

const serviceAccountPrefix = "system:serviceaccount:";

/** The user name a ServiceAccount authenticates as. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `${serviceAccountPrefix}${namespace}:${name}`;
}

export function subjectApplies(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return user.name === subject.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      // A subject without a namespace means the binding's own (RoleBindings only).
      const namespace = subject.namespace || bindingNamespace;
      if (namespace === "") return false;
      return user.name === serviceAccountUser(namespace, subject.name);
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === "ServiceAccount") {
    return `${subject.kind} "${subject.name}/${subject.namespace || bindingNamespace}"`;
  }
  return `${subject.kind} "${subject.name}"`;
}

/** What SelfSubjectAccessReview and the authorization filter learn from RBAC. */
export interface Decision {
  allowed: boolean;
  /** `RBAC: allowed by ...`, or on a denial the errors met on the way (a missing role); else "". */
  reason: string;
}

export interface RulesResult {
  rules: PolicyRule[];
  /** Roles that bindings of this user name but that do not exist. */
  errors: string[];
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several in brackets, duplicates once. */
export function aggregateErrors(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}

/** Visits rules until the visitor returns false (true: go on). */
type RuleVisitor = (source: () => string, rule: PolicyRule | undefined, error: string | undefined) => boolean;

/**
 * The RBAC authorizer over the roles and bindings in the store. Members of system:masters are
 * allowed everything before RBAC is asked (kube-apiserver's privileged-group authorizer).
 */
export class RbacAuthorizer {
  constructor(private readonly store: RbacStore) {}

  authorize(user: UserInfo, attributes: RequestAttributes): Decision {
    if (user.groups.includes(privilegedGroup)) return { allowed: true, reason: "" };
    const errors: string[] = [];
    let allowedBy: string | undefined;
    this.visitRulesFor(user, attributes.namespace ?? "", (source, rule, error) => {
      if (error !== undefined) errors.push(error);
      if (rule && ruleAllows(rule, attributes)) {
        allowedBy = source();
        return false;
      }
      return true;
    });
    if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
    return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregateErrors(errors)}` : "" };
  }

  /** Every rule that applies to the user in the namespace ("" for cluster-wide rules only). */
  rulesFor(user: UserInfo, namespace: string): RulesResult {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (_source, rule, error) => {
      if (error !== undefined) errors.push(error);
      if (rule) rules.push(rule);
      return true;
    });
    return { rules, errors };
  }

  private visitRulesFor(user: UserInfo, namespace: string, visit: RuleVisitor): void {
    for (const object of this.store.list(rbacStorage.clusterRoleBindings)) {
      const binding = object as BindingObject;
      const subject = (binding.subjects ?? []).find((s) => subjectApplies(user, s, ""));
      if (!subject) continue;
      const { rules, error } = this.roleRules(binding.roleRef, "");
      const source = () =>
        `ClusterRoleBinding "${binding.metadata.name}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, "")}`;
      if (error !== undefined && !visit(source, undefined, error)) return;
      for (const rule of rules) if (!visit(source, rule, undefined)) return;
    }
    if (namespace === "") return;
    for (const object of this.store.list(rbacStorage.roleBindings, namespace)) {
      const binding = object as BindingObject;
      const subject = (binding.subjects ?? []).find((s) => subjectApplies(user, s, namespace));
      if (!subject) continue;
      const { rules, error } = this.roleRules(binding.roleRef, namespace);
      const source = () =>
        `RoleBinding "${binding.metadata.name}/${namespace}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, namespace)}`;
      if (error !== undefined && !visit(source, undefined, error)) return;
      for (const rule of rules) if (!visit(source, rule, undefined)) return;
    }
  }

  /** GetRoleReferenceRules: a Role in the binding's namespace or a ClusterRole. */
  private roleRules(ref: RoleRef, namespace: string): { rules: PolicyRule[]; error?: string } {
    switch (ref.kind) {
      case "Role": {
        const role = this.store.peek(rbacStorage.roles, namespace || undefined, ref.name) as
          | RoleObject
          | undefined;
        if (!role || namespace === "")
          return { rules: [], error: `role.${rbacGroup} "${ref.name}" not found` };
        return { rules: role.rules ?? [] };
      }
      case "ClusterRole": {
        const role = this.store.peek(rbacStorage.clusterRoles, undefined, ref.name) as RoleObject | undefined;
        if (!role) return { rules: [], error: `clusterrole.${rbacGroup} "${ref.name}" not found` };
        return { rules: role.rules ?? [] };
      }
      default:
        return { rules: [], error: `unsupported role reference kind: "${ref.kind}"` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Request attributes the server derives beyond the path

/**
 * The name a list or watch is authorized with: `metadata.name=x` (or `==`) in its field
 * selector, when x could be a path segment (RequestInfoFactory does this since Kubernetes 1.x).
 */
export function nameFromFieldSelector(fieldSelector: string | null | undefined): string | undefined {
  for (const term of (fieldSelector ?? "").split(",")) {
    const match = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (!match) continue;
    const name = match[1] ?? "";
    if (name === "" || name === "." || name === ".." || /[/%]/.test(name)) return undefined;
    return name;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Validation and defaulting (pkg/apis/rbac/validation, pkg/apis/rbac/v1 defaults)

/** path.IsValidPathSegmentName: what RBAC objects may be named (colons allowed: `kubevirt.io:migrate`). */
export function pathSegmentNameErrors(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  const errors: string[] = [];
  for (const bad of ["/", "%"]) if (name.includes(bad)) errors.push(`may not contain '${bad}'`);
  return errors;
}

const goStrings = (values: readonly string[]) =>
  `[]string{${values.map((v) => JSON.stringify(v)).join(", ")}}`;

const required = (field: string, detail = ""): StatusCause => ({
  reason: "FieldValueRequired",
  field,
  message: detail === "" ? "Required value" : `Required value: ${detail}`,
});
const invalidValue = (field: string, value: string, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  field,
  message: `Invalid value: ${value}: ${detail}`,
});
const notSupported = (field: string, value: string, supported: readonly string[]): StatusCause => ({
  reason: "FieldValueNotSupported",
  field,
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(", ")}`,
});

function validateRules(rules: unknown, namespaced: boolean): StatusCause[] {
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules))
    return [{ reason: "FieldValueTypeInvalid", field: "rules", message: "must be a list" }];
  const causes: StatusCause[] = [];
  rules.forEach((raw: unknown, i) => {
    const rule = (raw ?? {}) as PolicyRule;
    const at = `rules[${i}]`;
    if ((rule.verbs ?? []).length === 0)
      causes.push(required(`${at}.verbs`, "verbs must contain at least one value"));
    const urls = rule.nonResourceURLs ?? [];
    if (urls.length > 0) {
      if (namespaced)
        causes.push(
          invalidValue(
            `${at}.nonResourceURLs`,
            goStrings(urls),
            "namespaced rules cannot apply to non-resource URLs",
          ),
        );
      if (
        (rule.apiGroups ?? []).length > 0 ||
        (rule.resources ?? []).length > 0 ||
        (rule.resourceNames ?? []).length > 0
      )
        causes.push(
          invalidValue(
            `${at}.nonResourceURLs`,
            goStrings(urls),
            "rules cannot apply to both regular resources and non-resource URLs",
          ),
        );
      return;
    }
    if ((rule.apiGroups ?? []).length === 0)
      causes.push(required(`${at}.apiGroups`, "resource rules must supply at least one api group"));
    if ((rule.resources ?? []).length === 0)
      causes.push(required(`${at}.resources`, "resource rules must supply at least one resource"));
  });
  return causes;
}

function validateSubjects(subjects: unknown, namespaced: boolean): StatusCause[] {
  if (subjects === undefined || subjects === null) return [];
  if (!Array.isArray(subjects))
    return [{ reason: "FieldValueTypeInvalid", field: "subjects", message: "must be a list" }];
  const causes: StatusCause[] = [];
  subjects.forEach((raw: unknown, i) => {
    const subject = (raw ?? {}) as Subject;
    const at = `subjects[${i}]`;
    if (!subject.name) causes.push(required(`${at}.name`));
    switch (subject.kind) {
      case "ServiceAccount":
        if (subject.apiGroup) causes.push(notSupported(`${at}.apiGroup`, subject.apiGroup, [""]));
        if (!namespaced && !subject.namespace) causes.push(required(`${at}.namespace`));
        break;
      case "User":
      case "Group":
        if (subject.apiGroup !== rbacGroup)
          causes.push(notSupported(`${at}.apiGroup`, subject.apiGroup ?? "", [rbacGroup]));
        break;
      default:
        causes.push(notSupported(`${at}.kind`, subject.kind ?? "", ["ServiceAccount", "User", "Group"]));
    }
  });
  return causes;
}

function roleRefText(ref: Partial<RoleRef> | undefined): string {
  return `rbac.RoleRef{APIGroup:${JSON.stringify(ref?.apiGroup ?? "")}, Kind:${JSON.stringify(ref?.kind ?? "")}, Name:${JSON.stringify(ref?.name ?? "")}}`;
}

function validateRoleRef(ref: Partial<RoleRef> | undefined, kinds: readonly string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  if (ref?.apiGroup !== rbacGroup)
    causes.push(notSupported("roleRef.apiGroup", ref?.apiGroup ?? "", [rbacGroup]));
  if (!kinds.includes(ref?.kind ?? "")) causes.push(notSupported("roleRef.kind", ref?.kind ?? "", kinds));
  if (!ref?.name) causes.push(required("roleRef.name"));
  else
    for (const message of pathSegmentNameErrors(ref.name))
      causes.push(invalidValue("roleRef.name", JSON.stringify(ref.name), message));
  return causes;
}

/** v1 defaulting: a binding's roleRef and its User and Group subjects are in the RBAC API group. */
function applyDefaults(object: SimObject): void {
  const binding = object as Partial<BindingObject>;
  if (binding.roleRef && typeof binding.roleRef === "object" && !binding.roleRef.apiGroup)
    binding.roleRef.apiGroup = rbacGroup;
  if (Array.isArray(binding.subjects)) {
    for (const subject of binding.subjects) {
      if (subject && (subject.kind === "User" || subject.kind === "Group") && !subject.apiGroup)
        subject.apiGroup = rbacGroup;
    }
  }
}

/**
 * Defaults and validates a Role, ClusterRole, RoleBinding or ClusterRoleBinding on create and
 * update (`old`), as the API server's strategies do; other kinds pass untouched.
 */
export function validateRbacObject(res: SimResource, object: SimObject, old?: SimObject): StatusCause[] {
  if (res.group !== rbacGroup) return [];
  applyDefaults(object);
  switch (res.plural) {
    case "roles":
      return validateRules((object as RoleObject).rules, true);
    case "clusterroles": {
      const role = object as RoleObject;
      const causes = validateRules(role.rules, false);
      if (role.aggregationRule && (role.aggregationRule.clusterRoleSelectors ?? []).length === 0)
        causes.push(
          required(
            "aggregationRule.clusterRoleSelectors",
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
          ),
        );
      return causes;
    }
    case "rolebindings":
    case "clusterrolebindings": {
      const binding = object as Partial<BindingObject>;
      const namespaced = res.plural === "rolebindings";
      if (old) {
        const before = (old as BindingObject).roleRef;
        const after = binding.roleRef;
        if (before.apiGroup !== after?.apiGroup || before.kind !== after?.kind || before.name !== after?.name)
          return [invalidValue("roleRef", roleRefText(after), "cannot change roleRef")];
      }
      return [
        ...validateRoleRef(binding.roleRef, namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"]),
        ...validateSubjects(binding.subjects, namespaced),
      ];
    }
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// ClusterRole aggregation (kube-controller-manager's clusterrole-aggregation controller)

export function labelSelectorMatches(
  selector: LabelSelectorSpec,
  labels: Record<string, string> = {},
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case "In":
        if (!has || !values.includes(value ?? "")) return false;
        break;
      case "NotIn":
        if (has && values.includes(value ?? "")) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A rule with empty lists dropped, for equality as equality.Semantic sees it (nil == empty). */
function normalRule(rule: PolicyRule): PolicyRule {
  const out: Record<string, string[]> = {};
  for (const key of ["verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"] as const) {
    const value = rule[key];
    if (value && value.length > 0) out[key] = value;
  }
  return out as unknown as PolicyRule;
}

const sameRules = (a: readonly PolicyRule[], b: readonly PolicyRule[]) =>
  JSON.stringify(a.map(normalRule)) === JSON.stringify(b.map(normalRule));

/** The rules an aggregated ClusterRole gets: those of every other ClusterRole its selectors pick. */
export function aggregatedRules(role: RoleObject, all: readonly RoleObject[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const sorted = [...all].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
  for (const selector of role.aggregationRule?.clusterRoleSelectors ?? []) {
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name) continue;
      if (!labelSelectorMatches(selector, other.metadata.labels)) continue;
      for (const rule of other.rules ?? []) {
        if (!rules.some((r) => sameRules([r], [rule]))) rules.push(structuredClone(rule));
      }
    }
  }
  return rules;
}

/**
 * Keeps aggregated ClusterRoles (admin, edit, view, ...) up to date: now, and after every change
 * to a ClusterRole (deferred, so that watchers see changes in resourceVersion order). Returns a stop.
 */
export function startAggregation(store: RbacStore, clusterRoles: SimResource): () => void {
  const sync = () => {
    // Until nothing changes: an aggregated role can itself be picked by another (view → edit → admin).
    for (let round = 0; round < 10; round++) {
      let changed = false;
      const all = store.list(rbacStorage.clusterRoles) as RoleObject[];
      for (const role of all) {
        if (!role.aggregationRule) continue;
        const rules = aggregatedRules(role, store.list(rbacStorage.clusterRoles) as RoleObject[]);
        if (sameRules(rules, role.rules ?? [])) continue;
        const updated = structuredClone(role);
        updated.rules = rules;
        store.update(clusterRoles, updated, {
          user: serviceAccountUser("kube-system", "clusterrole-aggregation-controller"),
        });
        changed = true;
      }
      if (!changed) return;
    }
  };
  sync();
  let queued = false;
  let stopped = false;
  const unsubscribe = store.subscribe((change: Change) => {
    if (change.storage !== rbacStorage.clusterRoles || queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      if (!stopped) sync();
    });
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
