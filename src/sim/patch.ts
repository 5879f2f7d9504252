// The three PATCH bodies the API server takes: RFC 6902 JSON patch (as evanphx/json-patch v4 applies
// it, errors included), RFC 7386 merge patch, and the strategic merge patch kubectl sends for
// built-in kinds. The simulator has no Go structs to read patch strategies from, so the strategic
// variant knows the merge keys by field name, which is all the objects it serves need.

export class PatchError extends Error {
  override readonly name = "PatchError";

  constructor(
    message: string,
    readonly status: 400 | 409 | 422,
  ) {
    super(message);
  }
}

export type PatchType = "json" | "merge" | "strategic";

/** The patch type a request's Content-Type names, or undefined for one the server would refuse (415). */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  switch (contentType?.split(";")[0]?.trim().toLowerCase()) {
    case "application/json-patch+json":
      return "json";
    case "application/merge-patch+json":
      return "merge";
    case "application/strategic-merge-patch+json":
      return "strategic";
    default:
      return undefined;
  }
}

/** Returns a new document; never mutates `doc`. */
export function applyPatch(doc: unknown, patch: unknown, type: PatchType): unknown {
  switch (type) {
    case "json":
      return applyJsonPatch(doc, patch);
    case "merge":
      return applyMergePatch(doc, patch);
    case "strategic":
      return applyStrategicMergePatch(doc, patch);
  }
}

type JsonObject = Record<string, unknown>;
type Container = unknown[] | JsonObject;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** Plain assignment would treat a "__proto__" key from the wire as the prototype. */
function put(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** The JSON kind as encoding/json names it in "cannot unmarshal" errors. */
function goKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

/** A value as Go's %v prints it, for the messages that embed whole maps. */
function goFormat(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (Array.isArray(value)) return `[${value.map(goFormat).join(" ")}]`;
  if (isObject(value)) {
    const entries = Object.keys(value).sort();
    return `map[${entries.map((k) => `${k}:${goFormat(value[k])}`).join(" ")}]`;
  }
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON patch

/** An error inside one operation; `missing` mirrors errors.Cause(err) == ErrMissing. */
class OpFailure extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
  }
}

const invalidIndex = (index: number) =>
  new OpFailure(`Unable to access invalid index: ${index}: invalid index referenced`);

function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key))
    throw new OpFailure(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  return Number(key);
}

// Negative indices count from the end: evanphx/json-patch enables that by default, so the server does.
function resolveIndex(length: number, index: number): number {
  if (index < -length) throw invalidIndex(index);
  return index < 0 ? index + length : index;
}

function getIn(container: Container, key: string): unknown {
  if (!Array.isArray(container)) {
    if (!Object.hasOwn(container, key))
      throw new OpFailure(`unable to get nonexistent key: ${key}: missing value`, true);
    return container[key];
  }
  const index = resolveIndex(container.length, atoi(key));
  if (index >= container.length) throw invalidIndex(index);
  return container[index];
}

function addIn(container: Container, key: string, value: unknown): void {
  if (!Array.isArray(container)) {
    put(container, key, value);
    return;
  }
  if (key === "-") {
    container.push(value);
    return;
  }
  let index: number;
  try {
    index = atoi(key);
  } catch (error) {
    throw new OpFailure(`value was not a proper array index: '${key}': ${(error as Error).message}`);
  }
  if (index > container.length) throw invalidIndex(index);
  container.splice(resolveIndex(container.length + 1, index), 0, value);
}

function removeIn(container: Container, key: string): void {
  if (!Array.isArray(container)) {
    if (!Object.hasOwn(container, key))
      throw new OpFailure(`unable to remove nonexistent key: ${key}: missing value`, true);
    delete container[key];
    return;
  }
  const index = atoi(key);
  if (index >= container.length) throw invalidIndex(index);
  container.splice(resolveIndex(container.length, index), 1);
}

function decodeKey(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** The container holding the pointer's last token; like the library, a missing leading "/" is not checked. */
function findParent(root: Container, pointer: string): [Container, string] | undefined {
  const tokens = pointer.split("/");
  if (tokens.length < 2) return undefined;
  let current: Container = root;
  for (const token of tokens.slice(1, -1)) {
    let next: unknown;
    try {
      next = getIn(current, decodeKey(token));
    } catch {
      return undefined;
    }
    if (typeof next !== "object" || next === null) return undefined;
    current = next as Container;
  }
  return [current, decodeKey(tokens.at(-1) as string)];
}

function pointerField(op: JsonObject, field: "path" | "from"): string {
  const value = own(op, field);
  if (value === undefined || value === null) {
    const what = field === "path" ? "operation missing path field" : "operation, missing from field";
    throw new OpFailure(`${what}: missing value`, true);
  }
  if (typeof value !== "string")
    throw new OpFailure(`json: cannot unmarshal ${goKind(value)} into Go value of type string`);
  return value;
}

/** Runs `step`, prefixing any failure with `context` the way errors.Wrapf does. */
function wrapped<T>(context: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof OpFailure) throw new OpFailure(`${context}: ${error.message}`, error.missing);
    throw error;
  }
}

/** add, remove and copy report an unreadable path as just "missing value", whatever the cause. */
function pathOrMissing(op: JsonObject, context: string): string {
  try {
    return pointerField(op, "path");
  } catch {
    throw new OpFailure(`${context}: missing value`, true);
  }
}

function parentOf(root: Container, pointer: string, whenMissing: string): [Container, string] {
  const found = findParent(root, pointer);
  if (found === undefined) throw new OpFailure(`${whenMissing}: missing value`, true);
  return found;
}

function applyOperation(root: Container, op: JsonObject): Container {
  const kind = typeof op.op === "string" ? op.op : "unknown";
  const value = own(op, "value") ?? null;
  switch (kind) {
    case "add": {
      const path = pathOrMissing(op, "add operation failed to decode path");
      const [parent, key] = parentOf(
        root,
        path,
        `add operation does not apply: doc is missing path: "${path}"`,
      );
      wrapped(`error in add for path: '${path}'`, () => addIn(parent, key, clone(value)));
      return root;
    }
    case "remove": {
      const path = pathOrMissing(op, "remove operation failed to decode path");
      const [parent, key] = parentOf(
        root,
        path,
        `remove operation does not apply: doc is missing path: "${path}"`,
      );
      wrapped(`error in remove for path: '${path}'`, () => removeIn(parent, key));
      return root;
    }
    case "replace": {
      const path = wrapped("replace operation failed to decode path", () => pointerField(op, "path"));
      // The library swaps the whole document for an object or array and silently ignores anything else.
      if (path === "") return typeof value === "object" && value !== null ? clone(value as Container) : root;
      const [parent, key] = parentOf(
        root,
        path,
        `replace operation does not apply: doc is missing path: ${path}`,
      );
      try {
        getIn(parent, key);
      } catch {
        throw new OpFailure(
          `replace operation does not apply: doc is missing key: ${path}: missing value`,
          true,
        );
      }
      if (Array.isArray(parent)) parent[resolveIndex(parent.length, atoi(key))] = clone(value);
      else put(parent, key, clone(value));
      return root;
    }
    case "move":
    case "copy": {
      const from = wrapped(`${kind} operation failed to decode from`, () => pointerField(op, "from"));
      const [source, sourceKey] = parentOf(
        root,
        from,
        `${kind} operation does not apply: doc is missing from path: ${from}`,
      );
      const moved = wrapped(
        kind === "move" ? `error in move for path: '${sourceKey}'` : `error in copy for from: '${from}'`,
        () => getIn(source, sourceKey),
      );
      if (kind === "move")
        wrapped(`error in move for path: '${sourceKey}'`, () => removeIn(source, sourceKey));
      const path =
        kind === "copy"
          ? pathOrMissing(op, "copy operation failed to decode path")
          : wrapped("move operation failed to decode path", () => pointerField(op, "path"));
      const [target, key] = parentOf(
        root,
        path,
        `${kind} operation does not apply: doc is missing destination path: ${path}`,
      );
      const context =
        kind === "move" ? `error in move for path: '${path}'` : "error while adding value during copy";
      wrapped(context, () => addIn(target, key, kind === "copy" ? clone(moved) : moved));
      return root;
    }
    case "test":
      testOperation(root, op);
      return root;
    default:
      throw new PatchError(`Unexpected kind: ${kind}`, 422);
  }
}

// KubeVirt recognises a lost race by this prefix (from older releases of the library), so every
// failed test carries it, followed by the current library's own words.
const testFailed = "jsonpatch test operation does not apply";

function testOperation(root: Container, op: JsonObject): void {
  const path = wrapped("test operation failed to decode path", () => pointerField(op, "path"));
  const expected = own(op, "value") ?? null;
  const failed = () => new OpFailure(`${testFailed}: testing value ${path} failed: test failed`);
  if (path === "") {
    if (!deepEqual(root, expected)) throw failed();
    return;
  }
  const found = findParent(root, path);
  if (found === undefined)
    throw new OpFailure(`${testFailed}: is missing path: ${path}: missing value`, true);
  let actual: unknown = null;
  try {
    actual = getIn(found[0], found[1]) ?? null;
  } catch (error) {
    if (!(error instanceof OpFailure)) throw error;
    if (!error.missing) throw new OpFailure(`error in test for path: '${path}': ${error.message}`);
  }
  if (!deepEqual(actual, expected)) throw failed();
}

/** RFC 6902. Malformed bodies are 400s (the server cannot decode them); failed operations are 422s. */
export function applyJsonPatch(doc: unknown, operations: unknown): unknown {
  if (operations === null || operations === undefined) return clone(doc);
  if (!Array.isArray(operations)) {
    throw new PatchError(
      `json: cannot unmarshal ${goKind(operations)} into Go value of type jsonpatch.Patch`,
      400,
    );
  }
  for (const op of operations) {
    if (op !== null && !isObject(op)) {
      throw new PatchError(
        `json: cannot unmarshal ${goKind(op)} into Go value of type jsonpatch.Operation`,
        400,
      );
    }
  }
  if (typeof doc !== "object" || doc === null) {
    throw new PatchError(
      `json: cannot unmarshal ${goKind(doc)} into Go value of type jsonpatch.partialDoc`,
      422,
    );
  }
  let root = clone(doc as Container);
  for (const op of operations as (JsonObject | null)[]) {
    try {
      root = applyOperation(root, op ?? {});
    } catch (error) {
      if (error instanceof OpFailure) throw new PatchError(error.message, 422);
      throw error;
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// RFC 7386 merge patch

function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else put(result, key, mergeInto(own(result, key), value));
  }
  return result;
}

/** RFC 7386: null deletes, objects merge recursively, anything else (a non-object patch too) replaces. */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  return mergeInto(clone(doc), patch);
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

/** Lists merged element by element, matched on this key; known by field name at any depth. */
const mergeKeys: ReadonlyMap<string, string> = new Map([
  ["containers", "name"],
  ["initContainers", "name"],
  ["ephemeralContainers", "name"],
  ["volumes", "name"],
  ["env", "name"],
  ["volumeMounts", "mountPath"],
  ["ports", "containerPort"],
  ["conditions", "type"],
  ["ownerReferences", "uid"],
  ["imagePullSecrets", "name"],
]);
/** Lists of scalars merged as a set union. */
const unionLists: ReadonlySet<string> = new Set(["finalizers"]);

const directiveMarker = "$patch";
const retainKeysDirective = "$retainKeys";
const setElementOrderPrefix = "$setElementOrder";
const deleteFromListPrefix = "$deleteFromPrimitiveList";

/** Errors the server has no 4xx for (it answers 500) are reported as 422: the patch is at fault. */
const unprocessable = (message: string) => new PatchError(message, 422);
const noMergeKey = (item: JsonObject, key: string) =>
  unprocessable(`map: ${goFormat(item)} does not contain declared merge key: ${key}`);
const badDirective = (kind: unknown, item: JsonObject) =>
  unprocessable(`unknown patch type: ${goFormat(kind)} in map: ${goFormat(item)}`);

/** The field a `$prefix/field` key names. */
function directiveTarget(key: string, prefix: string, message: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) throw new PatchError(message, 400);
  return key.slice(slash + 1);
}

function mergeKeyOf(field: string): string | undefined {
  return mergeKeys.get(field) ?? (unionLists.has(field) ? "" : undefined);
}

function elementKind(...lists: unknown[][]): string {
  let kind: string | undefined;
  for (const item of lists.flat()) {
    const itemKind = item === null ? "null" : Array.isArray(item) ? "array" : typeof item;
    if (kind === undefined) {
      if (itemKind === "array") throw unprocessable("lists of lists are not supported");
      kind = itemKind;
    } else if (itemKind !== kind) {
      throw unprocessable(`list element types are not identical: ${goFormat(lists)}`);
    }
  }
  return kind ?? "object";
}

/**
 * The server's element order: elements the patch names keep the patch's order, the rest keep the
 * live object's, and the two runs are interleaved by their places in the live object. So without
 * `$setElementOrder` an element new to the list lands before the server-only ones.
 */
function arrange(
  merged: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  id: (item: unknown) => unknown,
) {
  const position = (list: unknown[], item: unknown) => list.findIndex((other) => id(other) === id(item));
  const rank = (list: unknown[]) => (a: unknown, b: unknown) => {
    const [ra, rb] = [position(list, a), position(list, b)];
    return (ra < 0 ? list.length : ra) - (rb < 0 ? list.length : rb);
  };
  const fromPatch = merged.filter((item) => position(patchOrder, item) >= 0).sort(rank(patchOrder));
  const serverOnly = merged.filter((item) => position(patchOrder, item) < 0).sort(rank(serverOrder));
  const result: unknown[] = [];
  let [i, j] = [0, 0];
  while (i < serverOnly.length || j < fromPatch.length) {
    const [left, right] = [position(serverOrder, serverOnly[i]), position(serverOrder, fromPatch[j])];
    const takeLeft =
      j >= fromPatch.length || (i < serverOnly.length && left >= 0 && right >= 0 && left < right);
    result.push(takeLeft ? serverOnly[i++] : fromPatch[j++]);
  }
  return result;
}

function mergeList(field: string, original: unknown[], patch: unknown[]): unknown[] {
  const mergeKey = mergeKeyOf(field);
  if (mergeKey === undefined) return patch;
  if (original.length === 0 && patch.length === 0) return original;
  if (elementKind(original, patch) !== "object") {
    return arrange([...new Set([...original, ...patch])], patch, original, (item) => item);
  }
  if (mergeKey === "") throw unprocessable(`cannot merge lists without merge key for ${field}`);
  let server = original as JsonObject[];
  const items: JsonObject[] = [];
  let replace = false;
  for (const item of patch as JsonObject[]) {
    if (!Object.hasOwn(item, directiveMarker)) items.push(item);
    else if (item[directiveMarker] === "delete") {
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      server = server.filter((element) => element[mergeKey] !== item[mergeKey]);
    } else if (item[directiveMarker] === "replace") replace = true;
    else if (item[directiveMarker] === "merge")
      throw unprocessable("merging lists cannot yet be specified in the patch");
    else throw badDirective(item[directiveMarker], item);
  }
  if (replace) return items.map((item) => mergeMap({}, item));
  const merged: JsonObject[] = [...server];
  for (const item of items) {
    if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const at = merged.findIndex(
      (element) => Object.hasOwn(element, mergeKey) && element[mergeKey] === item[mergeKey],
    );
    if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, item);
    else merged.push(mergeMap({}, item));
  }
  return arrange(merged, items, server, (item) => (isObject(item) ? item[mergeKey] : undefined));
}

function mergeValue(field: string, current: unknown, patch: unknown): unknown {
  if (isObject(patch)) return mergeMap(isObject(current) ? current : {}, patch);
  if (Array.isArray(patch)) return mergeList(field, Array.isArray(current) ? current : [], patch);
  return patch;
}

/** `$retainKeys`: keys of the live object the list does not name are dropped. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const keep = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  const invalid = () => new PatchError("invalid patch format of retainKeys", 400);
  if (!Array.isArray(keep)) throw invalid();
  for (const [key, value] of Object.entries(patch)) {
    const exempt =
      value === null || key.startsWith(deleteFromListPrefix) || key.startsWith(setElementOrderPrefix);
    if (!exempt && !keep.includes(key)) throw invalid();
  }
  for (const key of Object.keys(original)) if (!keep.includes(key)) delete original[key];
}

/** `$setElementOrder/field`: merges the field's list now and orders it by the directive's list. */
function applySetElementOrder(original: JsonObject, patch: JsonObject, key: string): void {
  const message = "invalid patch format of setElementOrder list";
  const field = directiveTarget(key, setElementOrderPrefix, message);
  const order = patch[key];
  delete patch[key];
  const current = own(original, field);
  const patched = own(patch, field);
  if (current === undefined && patched === undefined) return;
  if (!Array.isArray(order) || (current !== undefined && !Array.isArray(current)))
    throw new PatchError(message, 400);
  if (patched !== undefined && !Array.isArray(patched)) throw new PatchError(message, 400);
  delete patch[field];
  const live = current ?? [];
  const merged = patched === undefined ? live : mergeList(field, live, patched);
  const mergeKey = mergeKeyOf(field);
  const id = (item: unknown) => (mergeKey && isObject(item) ? item[mergeKey] : item);
  put(original, field, arrange(merged, order, live, id));
}

/** `$deleteFromPrimitiveList/field`: drops the listed values from a list of scalars. */
function deleteFromList(original: JsonObject, key: string, values: unknown): void {
  const field = directiveTarget(key, deleteFromListPrefix, "invalid patch format of primitive list");
  const current = own(original, field);
  if (values === null) delete original[field];
  else if (Array.isArray(current) && Array.isArray(values)) {
    put(
      original,
      field,
      current.filter((item) => !values.includes(item)),
    );
  }
}

/** Merges `patch` into `original` in place (both are private copies) and returns the result. */
function mergeMap(original: JsonObject, patch: JsonObject): JsonObject {
  if (Object.hasOwn(patch, directiveMarker)) {
    const kind = patch[directiveMarker];
    if (kind === "delete") return {};
    if (kind !== "replace") throw badDirective(kind, patch);
    const rest = { ...patch };
    delete rest[directiveMarker];
    return mergeMap({}, rest);
  }
  applyRetainKeys(original, patch);
  for (const key of Object.keys(patch)) {
    if (key.startsWith(setElementOrderPrefix)) applySetElementOrder(original, patch, key);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(deleteFromListPrefix)) deleteFromList(original, key, value);
    else if (value === null) delete original[key];
    else put(original, key, mergeValue(key, own(original, key), value));
  }
  return original;
}

/** A strategic merge patch, as the server applies one to a built-in kind. */
export function applyStrategicMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined) return clone(doc);
  if (!isObject(patch)) {
    throw new PatchError(
      `json: cannot unmarshal ${goKind(patch)} into Go value of type map[string]interface {}`,
      400,
    );
  }
  return mergeMap(isObject(doc) ? clone(doc) : {}, clone(patch));
}
