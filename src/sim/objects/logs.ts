// virt-launcher log lines, byte for byte as KubeVirt's go-kit JSON logger writes them (keys sorted,
// Go's string escaping). A VM's startup lines are built in bundle.ts, a past migration's progress
// lines in history.ts, both with `launcherLogLine`.

import { kubevirtLogTimestamp } from "./format.js";
export interface LauncherLogLineDescription {
  /** Epoch ms (fractions give the microseconds). */
  time: number;
  level: "info" | "warning" | "error";
  msg: string;
  /** `file.go:line` of the logging call. */
  pos: string;
  /** Default "virt-launcher". */
  component?: string;
  /** For object-scoped lines (`log.Log.Object(vmi)`); the launcher's VMI usually has an empty kind. */
  object?: { namespace?: string; name: string; kind?: string; uid: string };
  /** The error of `log.Log.Reason(err)`. */
  reason?: string;
  /** More key/value pairs (e.g. `source`, `iteration` with stall detection). */
  fields?: Record<string, string | number | boolean>;
}

/** A JSON string as Go's encoding/json writes it with SetEscapeHTML(false). */
function goJsonString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"') out += '\\"';
    else if (char === "\\") out += "\\\\";
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x2028 || code === 0x2029)
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += char;
  }
  return `${out}"`;
}

function goJsonValue(value: string | number | boolean): string {
  return typeof value === "string" ? goJsonString(value) : JSON.stringify(value);
}

/**
 * One virt-launcher log line, exactly as KubeVirt's logger writes it: go-kit's JSON logger encodes
 * a map, so the keys come out sorted (`component, kind, level, msg, name, namespace, pos, timestamp,
 * uid`), without a trailing newline here.
 */
export function launcherLogLine(desc: LauncherLogLineDescription): string {
  const fields: Record<string, string | number | boolean> = {
    ...desc.fields,
    level: desc.level,
    timestamp: kubevirtLogTimestamp(desc.time),
    pos: desc.pos,
    component: desc.component ?? "virt-launcher",
    msg: desc.msg,
  };
  if (desc.object) {
    if (desc.object.namespace) fields.namespace = desc.object.namespace;
    fields.name = desc.object.name;
    fields.kind = desc.object.kind ?? "";
    fields.uid = desc.object.uid;
  }
  if (desc.reason !== undefined) fields.reason = desc.reason;
  const body = Object.keys(fields)
    .sort()
    .map((key) => `${goJsonString(key)}:${goJsonValue(fields[key] as string | number | boolean)}`)
    .join(",");
  return `{${body}}`;
}
