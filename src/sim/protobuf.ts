// kubectl sends some built-in objects as Kubernetes protobuf (`application/vnd.kubernetes.protobuf`),
// SelfSubjectAccessReview among them (`kubectl auth can-i`), and does not fall back to JSON.
// This reads that envelope (magic `k8s\0`, then runtime.Unknown) and the few messages the
// simulated server accepts this way, by field number from Kubernetes' generated.proto files.

import { badRequest } from "./status.js";

type FieldType = "string" | "bool" | "int" | "map" | Schema | Repeated;
interface Schema {
  readonly [field: number]: readonly [name: string, type: FieldType];
}
/** A repeated field: one wire entry per element. */
interface Repeated {
  readonly repeated: "string" | Schema;
}
const repeated = (of: "string" | Schema): Repeated => ({ repeated: of });
/** map<string, string>: repeated entries of key (1) and value (2). */
const mapEntry: Schema = { 1: ["key", "string"], 2: ["value", "string"] };

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const typeMeta: Schema = { 1: ["apiVersion", "string"], 2: ["kind", "string"] };
const unknown: Schema = {
  1: ["typeMeta", typeMeta],
  3: ["contentEncoding", "string"],
  4: ["contentType", "string"],
};
const objectMeta: Schema = {
  1: ["name", "string"],
  2: ["generateName", "string"],
  3: ["namespace", "string"],
  11: ["labels", "map"],
  12: ["annotations", "map"],
};

const resourceAttributes: Schema = {
  1: ["namespace", "string"],
  2: ["verb", "string"],
  3: ["group", "string"],
  4: ["version", "string"],
  5: ["resource", "string"],
  6: ["subresource", "string"],
  7: ["name", "string"],
};
const nonResourceAttributes: Schema = { 1: ["path", "string"], 2: ["verb", "string"] };

const deleteOptions: Schema = {
  1: ["gracePeriodSeconds", "int"],
  2: ["preconditions", { 1: ["uid", "string"], 2: ["resourceVersion", "string"] }],
  3: ["orphanDependents", "bool"],
  4: ["propagationPolicy", "string"],
};

// rbac.authorization.k8s.io/v1 (`kubectl create role|clusterrole|rolebinding|clusterrolebinding`).
const policyRule: Schema = {
  1: ["verbs", repeated("string")],
  2: ["apiGroups", repeated("string")],
  3: ["resources", repeated("string")],
  4: ["resourceNames", repeated("string")],
  5: ["nonResourceURLs", repeated("string")],
};
const labelSelector: Schema = {
  1: ["matchLabels", "map"],
  2: [
    "matchExpressions",
    repeated({ 1: ["key", "string"], 2: ["operator", "string"], 3: ["values", repeated("string")] }),
  ],
};
const subject: Schema = {
  1: ["kind", "string"],
  2: ["apiGroup", "string"],
  3: ["name", "string"],
  4: ["namespace", "string"],
};
const roleRef: Schema = { 1: ["apiGroup", "string"], 2: ["kind", "string"], 3: ["name", "string"] };
const binding: Schema = {
  1: ["metadata", objectMeta],
  2: ["subjects", repeated(subject)],
  3: ["roleRef", roleRef],
};

const bodies: Record<string, Schema> = {
  SelfSubjectAccessReview: {
    1: ["metadata", objectMeta],
    2: [
      "spec",
      { 1: ["resourceAttributes", resourceAttributes], 2: ["nonResourceAttributes", nonResourceAttributes] },
    ],
  },
  SelfSubjectRulesReview: { 1: ["metadata", objectMeta], 2: ["spec", { 1: ["namespace", "string"] }] },
  SelfSubjectReview: { 1: ["metadata", objectMeta] },
  DeleteOptions: deleteOptions,
  // kubectl drain posts these to pods/{name}/eviction.
  Eviction: { 1: ["metadata", objectMeta], 2: ["deleteOptions", deleteOptions] },
  Role: { 1: ["metadata", objectMeta], 2: ["rules", repeated(policyRule)] },
  ClusterRole: {
    1: ["metadata", objectMeta],
    2: ["rules", repeated(policyRule)],
    3: ["aggregationRule", { 1: ["clusterRoleSelectors", repeated(labelSelector)] }],
  },
  RoleBinding: binding,
  ClusterRoleBinding: binding,
};

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw badRequest("protobuf: unexpected end of message");
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  }

  chunk(): Buffer {
    const length = this.varint();
    const out = this.bytes.subarray(this.offset, this.offset + length);
    if (out.length !== length) throw badRequest("protobuf: unexpected end of message");
    this.offset += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.chunk();
    else if (wireType === 5) this.offset += 4;
    else throw badRequest(`protobuf: unsupported wire type ${wireType}`);
  }
}

function isRepeated(type: Schema | Repeated): type is Repeated {
  return Object.hasOwn(type, "repeated");
}

function decode(bytes: Buffer, schema: Schema): Record<string, unknown> {
  const reader = new Reader(bytes);
  const out: Record<string, unknown> = {};
  const raw: Record<number, Buffer> = {};
  while (!reader.done) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    const spec = schema[field];
    if (!spec) {
      if (wireType === 2 && schema === unknown) raw[field] = reader.chunk();
      else reader.skip(wireType);
      continue;
    }
    const [name, type] = spec;
    if (type === "string") out[name] = reader.chunk().toString("utf8");
    else if (type === "bool") out[name] = reader.varint() !== 0;
    else if (type === "int") out[name] = reader.varint();
    else if (type === "map") {
      const entry = decode(reader.chunk(), mapEntry);
      const map = (out[name] ?? {}) as Record<string, unknown>;
      map[String(entry.key ?? "")] = entry.value ?? "";
      out[name] = map;
    } else if (isRepeated(type)) {
      const list = (out[name] ?? []) as unknown[];
      const chunk = reader.chunk();
      list.push(type.repeated === "string" ? chunk.toString("utf8") : decode(chunk, type.repeated));
      out[name] = list;
    } else out[name] = decode(reader.chunk(), type);
  }
  if (schema === unknown && raw[2]) out.raw = raw[2];
  return out;
}

export const protobufMediaType = "application/vnd.kubernetes.protobuf";

/** The object a protobuf body carries, as JSON would have it; 415-worthy kinds are refused. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(magic))
    throw badRequest("provided object is not a Kubernetes protobuf message");
  const envelope = decode(body.subarray(4), unknown) as {
    typeMeta?: { apiVersion?: string; kind?: string };
    raw?: Buffer;
  };
  const kind = envelope.typeMeta?.kind ?? "";
  const schema = bodies[kind];
  if (!schema)
    throw badRequest(
      `the simulated API server does not read ${kind || "this object"} as protobuf; send JSON`,
    );
  return {
    apiVersion: envelope.typeMeta?.apiVersion,
    kind,
    ...decode(envelope.raw ?? Buffer.alloc(0), schema),
  };
}
