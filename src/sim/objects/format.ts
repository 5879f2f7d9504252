// Formatting and naming helpers every builder shares: `metav1.Time` and KubeVirt log timestamps,
// Go's JSON key order (`sortKeysDeep` for unstructured objects, `goObject` for core ones),
// name-based UUIDs and image digests, the names the API server and KubeVirt derive, and
// Kubernetes quantities. They depend on nothing else in objects/, so every module can use them.

import { createHash } from "node:crypto";
import type { Random } from "../random.js";
export type Json = Record<string, unknown>;

/** `metav1.Time` as the API server writes it: RFC 3339, second precision, UTC (`2025-01-02T03:04:05Z`). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** KubeVirt's log timestamp, Go layout `2006-01-02T15:04:05.000000Z` (microseconds, always UTC). */
export function kubevirtLogTimestamp(ms: number): string {
  const micros = Math.round(ms * 1000);
  const whole = Math.floor(micros / 1000);
  const iso = new Date(whole).toISOString();
  return `${iso.slice(0, 23)}${String(micros - whole * 1000).padStart(3, "0")}Z`;
}

/** Returns a copy with object keys sorted at every level (how unstructured objects are serialised). */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => sortKeysDeep(item)) as T;
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Json)[key];
    if (item !== undefined) out[key] = sortKeysDeep(item);
  }
  return out as T;
}

/** Fields that are Go maps in the core API types: encoding/json writes their keys sorted. */
const goMapFields = new Set([
  "labels",
  "annotations",
  "nodeSelector",
  "matchLabels",
  "limits",
  "requests",
  "capacity",
  "allocatable",
]);

/**
 * A deep copy of a core object in which the map-typed fields (labels, annotations, resource lists,
 * ...) have sorted keys, as encoding/json writes Go maps, while struct fields keep their order.
 */
export function goObject<T>(value: T, key = ""): T {
  if (Array.isArray(value)) return value.map((item) => goObject(item)) as T;
  if (typeof value !== "object" || value === null) return value;
  const keys = Object.keys(value);
  if (goMapFields.has(key)) keys.sort();
  const out: Json = {};
  for (const name of keys) {
    const item = (value as Json)[name];
    if (item !== undefined) out[name] = goObject(item, name);
  }
  return out as T;
}

/** Drops keys whose value is undefined (keeps the key order of the rest). */
export function compact<T extends Json>(object: T): T {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A name-based (version 5, SHA-1) UUID, as Go's `uuid.NewSHA1(namespace, name)`. */
export function uuidV5(namespaceUuid: string, name: string): string {
  const ns = Buffer.from(namespaceUuid.replace(/-/g, ""), "hex");
  const bytes = createHash("sha1").update(ns).update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The firmware UUID virt-controller gives a VM (`CalculateLegacyUUID`, pkg/virt-controller/watch/vm/firmware.go). */
export function firmwareUuid(vmName: string): string {
  return uuidV5("6a1a24a1-4061-4607-8bf4-a3963d0c5895", vmName);
}

/** A stable image digest: the same image reference always resolves to the same `sha256:` digest. */
export function imageDigest(image: string): string {
  return `sha256:${sha256Hex(`image:${image}`)}`;
}

/** The `imageID` the kubelet reports for an image: `<repository>@sha256:<digest>`. */
export function imageId(image: string): string {
  const at = image.indexOf("@");
  if (at >= 0) return image;
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  const repository = colon > slash ? image.slice(0, colon) : image;
  return `${repository}@${imageDigest(image)}`;
}

/** The pod interface name of a secondary (Multus) network: `pod` + 11 hex digits of sha256(network name). */
export function hashedPodInterfaceName(networkName: string): string {
  return `pod${sha256Hex(networkName).slice(0, 11)}`;
}

/** The pod name the API server makes from a generateName: the prefix cut to 58 characters plus 5 random ones. */
export function generatedName(generateName: string, random: Random): string {
  return `${generateName.slice(0, 58)}${random.suffix(5)}`;
}

/** The `vmi.kubevirt.io/id` label: the VMI name, or its first 54 characters and a hash when longer than 63. */
export function vmiIdLabel(vmiName: string): string {
  if (vmiName.length <= 63) return vmiName;
  return `${vmiName.slice(0, 54)}-${createHash("sha1").update(vmiName).digest("hex").slice(0, 8)}`;
}

/** The launcher pod's hostname (`dns.SanitizeHostname`): the name up to its first dot, at most 63 characters. */
export function sanitizeHostname(vmiName: string): string {
  return (vmiName.split(".")[0] ?? vmiName).slice(0, 63);
}

/** Parses a binary or decimal quantity ("4Gi", "512Mi", "2G", "1024") into bytes. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGTPE]i?|k)?$/.exec(quantity.trim());
  if (!match) throw new Error(`unsupported quantity ${JSON.stringify(quantity)}`);
  const value = Number(match[1]);
  const unit = match[2] ?? "";
  const binary: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
  const decimal: Record<string, number> = { k: 1, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
  if (unit in binary) return value * 1024 ** (binary[unit] ?? 0);
  if (unit in decimal) return value * 1000 ** (decimal[unit] ?? 0);
  return value;
}

export function mebibytes(quantity: string): number {
  return Math.ceil(quantityBytes(quantity) / 1024 ** 2);
}

/** Formats a byte count as a Kubernetes binary quantity in the largest exact unit. */
export function binaryQuantity(bytes: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti"];
  let value = bytes;
  let unit = 0;
  while (unit < units.length - 1 && value % 1024 === 0 && value >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}
