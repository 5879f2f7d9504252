// One place that turns what the API server (or the network) said into a KvmigError with a hint.
// The server's own message is always kept; the hint names what was refused or missing.

import {
  ApiError,
  ConnectionError,
  ExitCode,
  KubeVirtMissingError,
  type KvmigError,
  NotKubernetesError,
  TimeoutError,
} from "../errors.js";
import { commandLine } from "../util/shell.js";
import { accessCheckCommand } from "./access-check.js";
import { isStatus, type Status } from "./meta.js";
import { type ResourceAttributes, resourceAttributes } from "./resource-attributes.js";
import { webhookRefusal } from "./webhook-refusal.js";

export { type ResourceAttributes, resourceAttributes } from "./resource-attributes.js";

/** What kvmig was doing when the error happened, for the message and the hint. */
export interface RequestInfo {
  method: string;
  /** The path with its query string. */
  path: string;
  server: string;
  context: string;
  /**
   * Whether the kubeconfig names a CA for the server (certificate-authority or -data); without
   * one, the system's CAs are all that can vouch for it.
   */
  kubeconfigCa?: boolean | undefined;
}

function describeResource(attrs: ResourceAttributes): string {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return attrs.group === "" ? resource : `${resource}.${attrs.group}`;
}

function scopeOf(attrs: ResourceAttributes): string {
  return attrs.namespace === undefined ? "cluster-wide" : `in namespace "${attrs.namespace}"`;
}

function parseStatus(body: string): Status | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isStatus(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function serverMessage(status: number, body: string, parsed: Status | undefined): string {
  if (parsed?.message) return parsed.message;
  const text = body.trim().split("\n")[0]?.slice(0, 200);
  return text ? `${text} (HTTP ${status})` : `the server answered HTTP ${status}`;
}

/** `kubectl config view --minify` of the request's context: where that context points. */
function minifyCommand(request: RequestInfo): string {
  return commandLine(["kubectl", "config", "view", "--minify", "--context", request.context]);
}

/** A successful answer that is not JSON: a web page (a login proxy, the wrong port) or garbage. */
export function unparsableAnswer(body: string, request: RequestInfo): KvmigError {
  const path = request.path.split("?")[0];
  const what = /^\s*</.test(body)
    ? "a web page"
    : `something that is not JSON ("${body.trim().slice(0, 40)}")`;
  return new NotKubernetesError(
    `the server at ${request.server} is not a Kubernetes API server: it answered ${request.method} ${path} with ${what} (HTTP 200)`,
    {
      hint: `check the server address of context "${request.context}": ${minifyCommand(request)}`,
    },
  );
}

/**
 * The API server refused an eviction (HTTP 429): the message is the server's, unchanged. Not
 * sent again by the retry rules unless the answer asked for a wait (Retry-After: throttling).
 */
export class EvictionRefusedError extends ApiError {}

/** kube-apiserver's 404 for a resource type it does not serve (an object's 404 names the object). */
const unservedResourceMessage = "the server could not find the requested resource";

/** An HTTP error response. `body` is the raw response text, usually a Status. */
export function errorFromResponse(status: number, body: string, request: RequestInfo): KvmigError {
  const parsed = parseStatus(body);
  const message = serverMessage(status, body, parsed);
  const reason = parsed?.reason;
  const attrs = resourceAttributes(request.method, request.path);
  const path = request.path.split("?")[0];
  const minify = minifyCommand(request);
  // A web page where a Status belongs: the kubeconfig points at something else (a proxy's login
  // page, a dashboard, the wrong port).
  if (!parsed && /^\s*</.test(body)) {
    return new NotKubernetesError(
      `the server at ${request.server} is not a Kubernetes API server: it answered ${request.method} ${path} with a web page (HTTP ${status})`,
      { hint: `check the server address of context "${request.context}": ${minify}` },
    );
  }
  if (
    status === 404 &&
    parsed?.message === unservedResourceMessage &&
    attrs?.group.endsWith("kubevirt.io") &&
    !attrs.subresource
  ) {
    return new KubeVirtMissingError(
      `KubeVirt is not installed on the cluster of context "${request.context}": the API server does not serve ${attrs.group} ${attrs.resource}`,
      {
        hint: "install KubeVirt (https://kubevirt.io/user-guide/cluster_admin/installation/), or choose the cluster that runs it with --context",
      },
    );
  }
  // An eviction's 429 is its "no" (KubeVirt's eviction webhook, a disruption budget), kept word
  // for word: its caller reads it and asks again later, as kubectl drain does.
  if (
    status === 429 &&
    attrs?.group === "" &&
    attrs.resource === "pods" &&
    attrs.subresource === "eviction"
  ) {
    return new EvictionRefusedError(message, status, reason, ExitCode.operationFailed, {
      hint: `the pod "${attrs.name ?? ""}" may not be evicted now: KubeVirt's eviction webhook refuses a virt-launcher pod while it migrates the VM off the node instead, and a PodDisruptionBudget refuses while too few pods would be left; ask again later`,
    });
  }
  const refusal = webhookRefusal(message, status, reason, attrs);
  if (refusal) return refusal;
  const what = attrs ? `${attrs.verb} ${describeResource(attrs)}` : `${request.method} ${request.path}`;
  const scope = attrs ? ` ${scopeOf(attrs)}` : "";

  switch (status) {
    case 401: {
      const refused = virtApiRefusal(status, body, attrs, request);
      if (refused) return refused;
      return new ApiError(message, status, reason, ExitCode.unauthorized, {
        hint: `the API server at ${request.server} did not accept the credentials of context "${request.context}" (refused: ${what}${scope}); log in again or refresh the credentials in your kubeconfig`,
      });
    }
    case 403:
      return new ApiError(message, status, reason, ExitCode.unauthorized, {
        hint: `you are not allowed to ${what}${scope}; ${permissionAdvice(attrs)}`,
      });
    case 404:
      return new ApiError(message, status, reason, ExitCode.notFound, { hint: notFoundHint(attrs, request) });
    case 409:
      return new ApiError(message, status, reason, ExitCode.unexpected, {
        hint:
          reason === "AlreadyExists"
            ? "an object with that name already exists; pick another name or use the existing one"
            : "the object changed, or its state does not allow this now; check its current state and run again",
      });
    case 410:
      return new ApiError(message, status, reason, ExitCode.unexpected, {
        hint: "what kvmig was reading expired on the server (too old a resourceVersion or continue token); run the command again",
      });
    case 400:
    case 422:
      return new ApiError(withCauses(message, parsed), status, reason, ExitCode.usage, {
        hint: "the API server rejected the request as invalid; fix the value it names and run again",
      });
    case 429:
      return new ApiError(message, status, reason, ExitCode.unexpected, {
        hint: "the API server is throttling requests; wait a moment and run again",
      });
    default:
      return new ApiError(message, status, reason, ExitCode.unexpected, {
        hint: serverErrorHint(status, attrs),
      });
  }
}

function withCauses(message: string, status: Status | undefined): string {
  const causes = status?.details?.causes ?? [];
  const extra = causes
    .map((c) => (c.field ? `${c.field}: ${c.message ?? c.reason ?? ""}` : (c.message ?? "")))
    .filter((c) => c !== "" && !message.includes(c));
  return extra.length > 0 ? `${message} (${extra.join("; ")})` : message;
}

/**
 * virt-api's own refusal of a KubeVirt subresource request: kube-apiserver authenticated the user
 * and let the request through with the path's first segment after the name as the subresource
 * (RequestInfo: `evacuate` of `evacuate/cancel`); virt-api then asks a SubjectAccessReview of its
 * own, since KubeVirt v1.9 with the whole rest of the path (pkg/virt-api/rest/authorizer.go), and
 * answers 401 with the review's reason as plain text when it is refused (api.go's filter). Only
 * a deeper path can be let through by one and refused by the other.
 */
function virtApiRefusal(
  status: number,
  body: string,
  attrs: ResourceAttributes | undefined,
  request: RequestInfo,
): KvmigError | undefined {
  if (attrs?.group !== "subresources.kubevirt.io" || attrs.name === undefined || !attrs.subresource)
    return undefined;
  const path = request.path.split("?")[0] ?? "";
  const parts = path.split("/").filter((p) => p !== "");
  const at = parts.indexOf(encodeURIComponent(attrs.name), parts.indexOf(attrs.resource));
  const deep = at < 0 ? [] : parts.slice(at + 1);
  if (deep.length < 2) return undefined;
  const full = `${attrs.resource}/${deep.join("/")}`;
  const first = `${attrs.resource}/${attrs.subresource}`;
  const text = body.trim().split("\n")[0]?.slice(0, 200);
  const check = accessCheckCommand({ ...attrs, subresource: deep.join("/") });
  return new ApiError(
    `KubeVirt's virt-api refused ${attrs.verb} ${full}.${attrs.group} ${scopeOf(attrs)}${text ? `: ${text}` : ""} (HTTP ${status})`,
    status,
    undefined,
    ExitCode.unauthorized,
    {
      hint: `the API server allowed ${attrs.verb} ${first}, virt-api (KubeVirt v1.9+) checks ${full} too: a role needs both; check with: ${check}`,
    },
  );
}

function permissionAdvice(attrs: ResourceAttributes | undefined): string {
  if (!attrs) return "ask a cluster admin for the permission";
  const check = accessCheckCommand(attrs);
  if (attrs.group === "subresources.kubevirt.io" && attrs.subresource === "migrate") {
    return `since KubeVirt v1.5 this needs the kubevirt.io:migrate ClusterRole (bind it with a RoleBinding in the namespace); check with: ${check}`;
  }
  return `ask a cluster admin for a Role that grants it; check with: ${check}`;
}

function notFoundHint(attrs: ResourceAttributes | undefined, request: RequestInfo): string {
  if (!attrs) return `the API server at ${request.server} has no ${request.path}`;
  const resource = describeResource(attrs);
  if (attrs.name === undefined) {
    const kubevirt = attrs.group.endsWith("kubevirt.io") ? "; is KubeVirt installed on this cluster?" : "";
    return `the API server at ${request.server} does not serve ${resource}${kubevirt}`;
  }
  const where = attrs.namespace === undefined ? "" : ` in namespace "${attrs.namespace}"`;
  const list = commandLine([
    "kubectl",
    "get",
    attrs.group === "" ? attrs.resource : `${attrs.resource}.${attrs.group}`,
    ...(attrs.namespace === undefined ? [] : ["-n", attrs.namespace]),
  ]);
  const subject = attrs.subresource ? `${attrs.resource} "${attrs.name}"` : `${resource} "${attrs.name}"`;
  return `there is no ${subject}${where} (context "${request.context}"); list what exists with: ${list}`;
}

function serverErrorHint(status: number, attrs: ResourceAttributes | undefined): string {
  const kubevirt = attrs?.group.endsWith("kubevirt.io") === true;
  if (status === 503) {
    return kubevirt
      ? `the KubeVirt API (virt-api) is unavailable; check its pods with: ${commandLine(["kubectl", "get", "pods", "-A", "-l", "kubevirt.io=virt-api"])}`
      : "the API server is unavailable (restarting or overloaded); wait a moment and run again";
  }
  return kubevirt
    ? "the API server or a KubeVirt webhook failed; the message above is the server's own. Run again with -v for the request"
    : "the API server failed; the message above is the server's own. Run again with -v for the request";
}

const tlsErrorCodes: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

/** The chain of the server's certificate ends at no CA that was trusted (rather than expired, or for another host). */
const untrustedCodes: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

/** A TLS verification failure (a certificate the kubeconfig does not trust): never worth a retry. */
export function isTlsVerificationCode(code: string): boolean {
  return tlsErrorCodes.has(code) || code.startsWith("ERR_SSL") || code.includes("CERT");
}

/** A failure below HTTP: refused, DNS, TLS, reset. */
export function errorFromNetwork(error: unknown, request: RequestInfo): KvmigError {
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  const where = `the API server at ${request.server} (context "${request.context}")`;
  const check = `check the server address and the cluster with: ${minifyCommand(request)}`;
  if (code === "ECONNREFUSED") {
    return new ConnectionError(`cannot connect to ${where}: connection refused`, {
      hint: `is the cluster running? ${check}`,
      cause: error,
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new ConnectionError(`cannot resolve the host of ${where}: ${detail}`, {
      hint: `the server name does not resolve; ${check}`,
      cause: error,
    });
  }
  if (typeof code === "string" && isTlsVerificationCode(code)) {
    // With no CA in the kubeconfig there is nothing in it to "not match": say what is missing.
    const hint =
      request.kubeconfigCa === false && untrustedCodes.has(code)
        ? `the server's certificate is not signed by a CA this system trusts, and the kubeconfig has no certificate-authority(-data) for its cluster; add the cluster's CA there (certificate-authority-data, or certificate-authority: FILE), or point --context at the right cluster (--insecure-skip-tls-verify skips the check, insecurely)`
        : "the certificate-authority in your kubeconfig does not match the server's certificate; fix the cluster's certificate-authority(-data) entry, or point --context at the right cluster (--insecure-skip-tls-verify skips the check, insecurely)";
    return new ConnectionError(`TLS verification failed for ${where}: ${detail}`, { hint, cause: error });
  }
  return new ConnectionError(`lost the connection to ${where}: ${detail}`, {
    hint: `the network or the API server dropped the request; run again, and if it repeats ${check}`,
    cause: error,
  });
}

export function timeoutError(request: RequestInfo, timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `timed out after ${formatSeconds(timeoutMs)} waiting for the API server at ${request.server} (context "${request.context}") to answer ${request.method} ${request.path.split("?")[0]}`,
    { hint: "raise --request-timeout, or check the network path to the API server" },
  );
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}
