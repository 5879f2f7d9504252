// An admission webhook's "no" is the cluster's answer to a well-formed request: KubeVirt's
// validators refuse a migration of a VMI that is not live-migratable, of one already migrating,
// of one that has finished. The API server words every denial the same way whatever the
// webhook (`admission webhook "NAME" denied the request: REASON`), with 400 unless the webhook
// chose a code (KubeVirt's field denials say 422), and virt-api's migrate subresource passes one
// on as a 500 "Internal error occurred: ...". So the status says little: the wording does, and
// it comes from the API server, not from KubeVirt, so it holds across KubeVirt versions. The
// reason after it is KubeVirt's own text and differs between versions: it only picks the hint.

import { ApiError, ExitCode } from "../errors.js";
import { commandLine, kvmigCommand } from "../util/shell.js";
import type { ResourceAttributes } from "./resource-attributes.js";

const denial = /admission webhook "([^"]+)" denied the request(?::\s*([\s\S]*))?/;

export interface WebhookDenial {
  webhook: string;
  /** What the webhook said; "" when it gave no reason. */
  reason: string;
}

export function webhookDenial(message: string): WebhookDenial | undefined {
  const match = denial.exec(message);
  if (!match) return undefined;
  return { webhook: match[1] ?? "", reason: (match[2] ?? "").trim() };
}

/**
 * The refusal as kvmig reports it: exit 3 (the cluster said no to the operation; nothing was
 * changed), KubeVirt's reason first, and a hint for the refusals KubeVirt is known to give.
 * A 401 is never a webhook's and stays the caller's to report.
 */
export function webhookRefusal(
  message: string,
  status: number,
  reason: string | undefined,
  attrs: ResourceAttributes | undefined,
): ApiError | undefined {
  const found = webhookDenial(message);
  if (!found || status === 401) return undefined;
  const said = found.reason === "" ? "no reason given" : found.reason;
  return new ApiError(
    `KubeVirt refused the request: ${said} (admission webhook ${found.webhook})`,
    status,
    reason,
    ExitCode.operationFailed,
    { hint: refusalHint(found, attrs) },
  );
}

function refusalHint({ webhook, reason }: WebhookDenial, attrs: ResourceAttributes | undefined): string {
  const vm = vmOf(attrs);
  const ns = attrs?.namespace;
  const target = vm === undefined ? undefined : [vm, ...(ns === undefined ? [] : ["-n", ns])];
  const diagnose = target ? `; see why with: ${kvmigCommand(["diagnose", ...target])}` : "";
  if (/in-?flight migration|already in progress|migration .* in progress/i.test(reason)) {
    return target
      ? `a migration of it is already under way; follow it with: ${kvmigCommand(["watch", ...target])}`
      : "a migration of this VMI is already under way; wait for it or cancel it";
  }
  if (/finali[sz]ed|does not exist|not running|not found/i.test(reason)) {
    return target
      ? `its VMI is not running; start the VM with: ${commandLine(["virtctl", "start", ...target])}`
      : "the VMI is not running; start its VM first";
  }
  if (/live.?migrat|cannot migrate/i.test(reason)) {
    const restart = target ? ` (${kvmigCommand(["restart", ...target])})` : "";
    return `KubeVirt says it cannot be live-migrated now${diagnose}; a restart${restart} moves it, with downtime`;
  }
  return `the webhook ${webhook} decides this; change what the reason names and run again${diagnose}`;
}

/** The VM (or VMI) a request was about, when the path names one. */
function vmOf(attrs: ResourceAttributes | undefined): string | undefined {
  if (!attrs?.name) return undefined;
  return attrs.resource === "virtualmachines" || attrs.resource === "virtualmachineinstances"
    ? attrs.name
    : undefined;
}
