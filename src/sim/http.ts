// HTTP plumbing of the simulated API server: bodies in, JSON and Status bodies out, and the
// content negotiation kubectl relies on (`as=Table`, `as=PartialObjectMetadataList`).

import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { decodeProtobufObject, protobufMediaType } from "./protobuf.js";
import { badRequest, SimApiError, statusError, unsupportedMediaType } from "./status.js";

/** kube-apiserver's limit on a request body (3 MiB). */
const maxBody = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody)
      throw statusError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A request body as an object: JSON, or YAML where the client says so. */
export function parseBody(
  bytes: Buffer,
  contentType: string | undefined,
  accepted = ["application/json", "application/yaml", protobufMediaType],
): unknown {
  const type = (contentType ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  if (bytes.length === 0) return undefined;
  if (type === protobufMediaType) return decodeProtobufObject(bytes);
  const text = bytes.toString("utf8");
  if (text.trim() === "") return undefined;
  if (type === "application/yaml" || type === "application/apply-patch+yaml") {
    try {
      return parseYaml(text);
    } catch (error) {
      throw badRequest(`error converting YAML to JSON: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  if (!type.endsWith("json") && type !== "") throw unsupportedMediaType(accepted);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

export interface Negotiated {
  /** `Table` when the client asked for one (kubectl get), else the object or list itself. */
  as: "Object" | "Table" | "PartialObjectMetadata";
  tableVersion: "meta.k8s.io/v1" | "meta.k8s.io/v1beta1";
}

/** The first acceptable media type of the Accept header wins, as in the server's negotiation. */
export function negotiate(accept: string | undefined): Negotiated {
  for (const entry of (accept ?? "").split(",")) {
    const [type = "", ...params] = entry.split(";").map((part) => part.trim());
    const values = new Map(params.map((p) => p.split("=").map((s) => s.trim()) as [string, string]));
    const as = values.get("as");
    const group = values.get("g");
    const version = values.get("v") === "v1beta1" ? "meta.k8s.io/v1beta1" : "meta.k8s.io/v1";
    if (type !== "application/json" && type !== "*/*" && type !== "application/*") continue;
    if (as === undefined) return { as: "Object", tableVersion: version };
    if (group !== "meta.k8s.io") continue;
    if (as === "Table") return { as: "Table", tableVersion: version };
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") {
      return { as: "PartialObjectMetadata", tableVersion: version };
    }
  }
  const onlyProtobuf = (accept ?? "").includes("protobuf") && !/json|\*\//.test(accept ?? "");
  if (onlyProtobuf)
    throw statusError(
      406,
      "NotAcceptable",
      "only the following media types are accepted: application/json, application/yaml",
    );
  return { as: "Object", tableVersion: "meta.k8s.io/v1" };
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  const apiError =
    error instanceof SimApiError
      ? error
      : statusError(
          500,
          "InternalError",
          `Internal error occurred: ${(error as Error)?.message ?? String(error)}`,
        );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, apiError.code, apiError.status, headers);
}

export function queryFlag(value: string | null): boolean {
  return value === "true" || value === "1";
}

export function queryInt(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw badRequest(`invalid value for ${name}: ${raw}`);
  return value;
}

export function dryRunOf(params: URLSearchParams, body?: { dryRun?: unknown }): boolean {
  const values = [
    ...params.getAll("dryRun"),
    ...(Array.isArray(body?.dryRun) ? (body.dryRun as string[]) : []),
  ];
  for (const value of values) {
    if (value !== "All") {
      throw statusError(
        400,
        "BadRequest",
        `Invalid dryRun value: Unsupported value: "${value}": supported values: "All"`,
      );
    }
  }
  return values.length > 0;
}
