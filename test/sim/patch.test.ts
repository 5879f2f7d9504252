// The three PATCH content types: the document each produces, that the input is never mutated, and
// the API server's (evanphx/json-patch's, strategicpatch's) words and status for each refusal.
import { describe, expect, it } from "vitest";
import {
  applyJsonPatch,
  applyMergePatch,
  applyPatch,
  applyStrategicMergePatch,
  PatchError,
  patchTypeOf,
} from "../../src/sim/patch.js";

function refusal(apply: () => unknown): PatchError {
  try {
    apply();
  } catch (error) {
    expect(error).toBeInstanceOf(PatchError);
    return error as PatchError;
  }
  throw new Error("expected the patch to be refused");
}

function expectRefusal(apply: () => unknown, status: number, message: string): void {
  const error = refusal(apply);
  expect({ status: error.status, message: error.message }).toEqual({ status, message });
}

describe("patchTypeOf", () => {
  it("maps the three patch media types, parameters and case aside", () => {
    expect(patchTypeOf("application/json-patch+json")).toBe("json");
    expect(patchTypeOf("application/merge-patch+json; charset=utf-8")).toBe("merge");
    expect(patchTypeOf("Application/Strategic-Merge-Patch+JSON")).toBe("strategic");
  });

  it("knows no other", () => {
    expect(patchTypeOf(undefined)).toBeUndefined();
    expect(patchTypeOf("application/json")).toBeUndefined();
    expect(patchTypeOf("application/apply-patch+yaml")).toBeUndefined();
  });
});

describe("applyJsonPatch", () => {
  const vmi = () => ({
    metadata: { name: "vm1" },
    status: { evacuationNodeName: "node01", phase: "Running" },
  });
  const evacuationDone = [
    { op: "test", path: "/status/evacuationNodeName", value: "node01" },
    { op: "remove", path: "/status/evacuationNodeName" },
  ];

  it("applies KubeVirt's test-then-remove without touching the input", () => {
    const doc = vmi();
    expect(applyJsonPatch(doc, evacuationDone)).toEqual({
      metadata: { name: "vm1" },
      status: { phase: "Running" },
    });
    expect(doc).toEqual(vmi());
  });

  it("fails a test that does not hold with 422 and KubeVirt's marker, applying nothing", () => {
    const doc = { ...vmi(), status: { evacuationNodeName: "node02", phase: "Running" } };
    const error = refusal(() => applyJsonPatch(doc, evacuationDone));
    expect(error.status).toBe(422);
    expect(error.message).toBe(
      "jsonpatch test operation does not apply: testing value /status/evacuationNodeName failed: test failed",
    );
    expect(error.message).toContain("jsonpatch test operation does not apply");
    expect(doc.status.evacuationNodeName).toBe("node02");
  });

  it("tests a missing key as null", () => {
    const doc = { status: {} };
    expect(applyJsonPatch(doc, [{ op: "test", path: "/status/x", value: null }])).toEqual(doc);
    expectRefusal(
      () => applyJsonPatch(doc, [{ op: "test", path: "/status/x", value: "a" }]),
      422,
      "jsonpatch test operation does not apply: testing value /status/x failed: test failed",
    );
    expectRefusal(
      () => applyJsonPatch(doc, [{ op: "test", path: "/spec/x", value: "a" }]),
      422,
      "jsonpatch test operation does not apply: is missing path: /spec/x: missing value",
    );
  });

  it("tests objects and arrays structurally, and the whole document at the root", () => {
    const doc = { spec: { list: [{ a: 1 }, 2] } };
    expect(applyJsonPatch(doc, [{ op: "test", path: "/spec", value: { list: [{ a: 1 }, 2] } }])).toEqual(doc);
    expect(applyJsonPatch(doc, [{ op: "test", path: "", value: doc }])).toEqual(doc);
    expect(refusal(() => applyJsonPatch(doc, [{ op: "test", path: "/spec/list", value: [2] }])).status).toBe(
      422,
    );
  });

  it("adds to objects (replacing an existing key) and arrays", () => {
    const doc = { a: { b: 1 }, list: ["x", "z"] };
    const result = applyJsonPatch(doc, [
      { op: "add", path: "/a/c", value: { d: true } },
      { op: "add", path: "/a/b", value: 2 },
      { op: "add", path: "/list/1", value: "y" },
      { op: "add", path: "/list/-", value: "end" },
      { op: "add", path: "/list/0", value: "start" },
      { op: "add", path: "/nothing" },
    ]);
    expect(result).toEqual({
      a: { b: 2, c: { d: true } },
      list: ["start", "x", "y", "z", "end"],
      nothing: null,
    });
  });

  it("decodes ~1 and ~0 in pointers", () => {
    const doc = { metadata: { annotations: { "kubevirt.io/x": "1", "a~b": "2" } } };
    const result = applyJsonPatch(doc, [
      { op: "replace", path: "/metadata/annotations/kubevirt.io~1x", value: "one" },
      { op: "remove", path: "/metadata/annotations/a~0b" },
    ]);
    expect(result).toEqual({ metadata: { annotations: { "kubevirt.io/x": "one" } } });
  });

  it("removes, counting negative indices from the end", () => {
    const doc = { list: [1, 2, 3], keep: true, drop: 0 };
    const result = applyJsonPatch(doc, [
      { op: "remove", path: "/list/-1" },
      { op: "remove", path: "/list/0" },
      { op: "remove", path: "/drop" },
    ]);
    expect(result).toEqual({ list: [2], keep: true });
  });

  it("replaces existing values, and the whole document at the root", () => {
    const doc = { a: { b: 1 }, list: [1, 2] };
    expect(
      applyJsonPatch(doc, [
        { op: "replace", path: "/a/b", value: { c: 2 } },
        { op: "replace", path: "/list/1", value: 3 },
      ]),
    ).toEqual({ a: { b: { c: 2 } }, list: [1, 3] });
    expect(applyJsonPatch(doc, [{ op: "replace", path: "", value: { other: 1 } }])).toEqual({ other: 1 });
  });

  it("moves and copies, copying by value", () => {
    const doc = { a: { b: { deep: 1 } }, list: ["x", "y"] };
    const moved = applyJsonPatch(doc, [
      { op: "move", from: "/a/b", path: "/c" },
      { op: "move", from: "/list/0", path: "/list/-" },
    ]);
    expect(moved).toEqual({ a: {}, c: { deep: 1 }, list: ["y", "x"] });
    const copied = applyJsonPatch(doc, [{ op: "copy", from: "/a/b", path: "/c" }]) as {
      a: { b: object };
      c: object;
    };
    expect(copied.c).toEqual({ deep: 1 });
    expect(copied.c).not.toBe(copied.a.b);
  });

  it("reports a missing path or key the way the library does", () => {
    const doc = { status: { phase: "Running" }, list: [1] };
    const cases: [object, string][] = [
      [
        { op: "remove", path: "/status/x" },
        "error in remove for path: '/status/x': unable to remove nonexistent key: x: missing value",
      ],
      [
        { op: "remove", path: "/a/b" },
        'remove operation does not apply: doc is missing path: "/a/b": missing value',
      ],
      [
        { op: "add", path: "/a/b/c", value: 1 },
        'add operation does not apply: doc is missing path: "/a/b/c": missing value',
      ],
      [
        { op: "replace", path: "/status/x", value: 1 },
        "replace operation does not apply: doc is missing key: /status/x: missing value",
      ],
      [
        { op: "replace", path: "/x/y", value: 1 },
        "replace operation does not apply: doc is missing path: /x/y: missing value",
      ],
      [
        { op: "move", from: "/status/x", path: "/y" },
        "error in move for path: 'x': unable to get nonexistent key: x: missing value",
      ],
      [
        { op: "copy", from: "/status/phase", path: "/x/y" },
        "copy operation does not apply: doc is missing destination path: /x/y: missing value",
      ],
      [
        { op: "copy", from: "/status/x", path: "/y" },
        "error in copy for from: '/status/x': unable to get nonexistent key: x: missing value",
      ],
      [
        { op: "add", path: "/list/5", value: 1 },
        "error in add for path: '/list/5': Unable to access invalid index: 5: invalid index referenced",
      ],
      [
        { op: "remove", path: "/list/3" },
        "error in remove for path: '/list/3': Unable to access invalid index: 3: invalid index referenced",
      ],
      [
        { op: "add", path: "/list/x", value: 1 },
        `error in add for path: '/list/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`,
      ],
      [
        { op: "test", path: "/list/7", value: 1 },
        "error in test for path: '/list/7': Unable to access invalid index: 7: invalid index referenced",
      ],
    ];
    for (const [op, message] of cases) expectRefusal(() => applyJsonPatch(doc, [op]), 422, message);
  });

  it("refuses operations it cannot read", () => {
    const doc = { a: 1 };
    expectRefusal(
      () => applyJsonPatch(doc, [{ op: "frobnicate", path: "/a" }]),
      422,
      "Unexpected kind: frobnicate",
    );
    expectRefusal(() => applyJsonPatch(doc, [{ path: "/a" }]), 422, "Unexpected kind: unknown");
    expectRefusal(() => applyJsonPatch(doc, [null]), 422, "Unexpected kind: unknown");
    expectRefusal(
      () => applyJsonPatch(doc, [{ op: "remove" }]),
      422,
      "remove operation failed to decode path: missing value",
    );
    expectRefusal(
      () => applyJsonPatch(doc, [{ op: "replace", path: 3, value: 1 }]),
      422,
      "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string",
    );
    expectRefusal(
      () => applyJsonPatch(doc, [{ op: "move", path: "/b" }]),
      422,
      "move operation failed to decode from: operation, missing from field: missing value",
    );
  });

  it("refuses a body that is not a list of operations with 400", () => {
    expectRefusal(
      () => applyJsonPatch({}, { op: "add" }),
      400,
      "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
    );
    expectRefusal(
      () => applyJsonPatch({}, "[]"),
      400,
      "json: cannot unmarshal string into Go value of type jsonpatch.Patch",
    );
    expectRefusal(
      () => applyJsonPatch({}, [{ op: "test", path: "/a", value: 2 }, "remove"]),
      400,
      "json: cannot unmarshal string into Go value of type jsonpatch.Operation",
    );
  });

  it("treats a null body as no operations", () => {
    const doc = { a: 1 };
    const result = applyJsonPatch(doc, null);
    expect(result).toEqual(doc);
    expect(result).not.toBe(doc);
  });
});

describe("applyMergePatch", () => {
  it("deletes on null, merges objects recursively and replaces everything else", () => {
    const doc = {
      metadata: { labels: { a: "1", b: "2" }, name: "vm1" },
      spec: { list: [1, 2], running: true },
    };
    const result = applyMergePatch(doc, {
      metadata: { labels: { a: null, c: "3" } },
      spec: { list: [3], running: null, fresh: { x: null, y: 1 } },
    });
    expect(result).toEqual({
      metadata: { labels: { b: "2", c: "3" }, name: "vm1" },
      spec: { list: [3], fresh: { y: 1 } },
    });
    expect(doc.metadata.labels).toEqual({ a: "1", b: "2" });
  });

  it("replaces the whole document with a patch that is not an object", () => {
    expect(applyMergePatch({ a: 1 }, [1, 2])).toEqual([1, 2]);
    expect(applyMergePatch({ a: 1 }, "x")).toBe("x");
    expect(applyMergePatch({ a: { b: 1 } }, { a: "flat" })).toEqual({ a: "flat" });
  });

  it("does not share structure with the patch", () => {
    const patch = { spec: { nested: { x: 1 } } };
    const result = applyMergePatch({}, patch) as { spec: { nested: { x: number } } };
    result.spec.nested.x = 2;
    expect(patch.spec.nested.x).toBe(1);
  });
});

describe("applyStrategicMergePatch", () => {
  const pod = () => ({
    metadata: { name: "virt-launcher", finalizers: ["a", "b"], labels: { app: "x" } },
    spec: {
      containers: [
        {
          name: "compute",
          image: "launcher:1",
          env: [{ name: "A", value: "1" }],
          ports: [{ containerPort: 80 }],
        },
        { name: "sidecar", image: "sidecar:1" },
      ],
      tolerations: [{ key: "t1" }, { key: "t2" }],
    },
  });

  it("merges containers by name, and lists inside them by their own keys", () => {
    const doc = pod();
    const result = applyStrategicMergePatch(doc, {
      spec: {
        containers: [
          {
            name: "compute",
            image: "launcher:2",
            env: [{ name: "B", value: "2" }],
            ports: [{ containerPort: 80, name: "http" }],
          },
        ],
      },
    }) as ReturnType<typeof pod>;
    expect(result.spec.containers).toEqual([
      {
        name: "compute",
        image: "launcher:2",
        env: [
          { name: "B", value: "2" },
          { name: "A", value: "1" },
        ],
        ports: [{ containerPort: 80, name: "http" }],
      },
      { name: "sidecar", image: "sidecar:1" },
    ]);
    expect(doc).toEqual(pod());
  });

  it("puts an element new to the list before the server-only ones, unless $setElementOrder says otherwise", () => {
    const added = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: "new" }] } }) as ReturnType<
      typeof pod
    >;
    expect(added.spec.containers.map((c) => c.name)).toEqual(["new", "compute", "sidecar"]);
    const ordered = applyStrategicMergePatch(pod(), {
      spec: {
        "$setElementOrder/containers": [{ name: "compute" }, { name: "sidecar" }, { name: "new" }],
        containers: [{ name: "new" }],
      },
    }) as ReturnType<typeof pod>;
    expect(ordered.spec.containers.map((c) => c.name)).toEqual(["compute", "sidecar", "new"]);
    expect(Object.keys(ordered.spec)).not.toContain("$setElementOrder/containers");
  });

  it("merges finalizers as a union", () => {
    const union = applyStrategicMergePatch(pod(), { metadata: { finalizers: ["b", "c"] } });
    expect((union as ReturnType<typeof pod>).metadata.finalizers).toEqual(["a", "b", "c"]);
    const added = applyStrategicMergePatch(pod(), { metadata: { finalizers: ["c"] } });
    expect((added as ReturnType<typeof pod>).metadata.finalizers).toEqual(["c", "a", "b"]);
    const removed = applyStrategicMergePatch(pod(), {
      metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] },
    });
    expect((removed as ReturnType<typeof pod>).metadata.finalizers).toEqual(["b"]);
  });

  it("honours $patch: delete and $patch: replace in lists", () => {
    const deleted = applyStrategicMergePatch(pod(), {
      spec: { containers: [{ name: "sidecar", $patch: "delete" }] },
    }) as ReturnType<typeof pod>;
    expect(deleted.spec.containers.map((c) => c.name)).toEqual(["compute"]);
    const replaced = applyStrategicMergePatch(pod(), {
      spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] },
    }) as ReturnType<typeof pod>;
    expect(replaced.spec.containers).toEqual([{ name: "only", image: "x" }]);
  });

  it("honours $patch: delete and $patch: replace in objects", () => {
    const replaced = applyStrategicMergePatch(pod(), {
      metadata: { labels: { $patch: "replace", fresh: "1" } },
    });
    expect((replaced as ReturnType<typeof pod>).metadata.labels).toEqual({ fresh: "1" });
    const deleted = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: "delete" } } });
    expect((deleted as ReturnType<typeof pod>).metadata.labels).toEqual({});
  });

  it("drops the keys $retainKeys does not name", () => {
    const doc = { spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } };
    const result = applyStrategicMergePatch(doc, {
      spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } },
    });
    expect(result).toEqual({ spec: { strategy: { type: "Recreate" } } });
    expectRefusal(
      () => applyStrategicMergePatch(doc, { spec: { strategy: { $retainKeys: ["type"], other: 1 } } }),
      400,
      "invalid patch format of retainKeys",
    );
  });

  it("merges conditions by type, ownerReferences by uid and volumeMounts by mountPath", () => {
    const doc = {
      metadata: { ownerReferences: [{ uid: "u1", name: "a" }] },
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "Paused", status: "False" },
        ],
      },
      spec: { volumeMounts: [{ mountPath: "/a", name: "x" }] },
    };
    const result = applyStrategicMergePatch(doc, {
      metadata: { ownerReferences: [{ uid: "u1", name: "b" }] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
      spec: { volumeMounts: [{ mountPath: "/a", readOnly: true }] },
    });
    expect(result).toEqual({
      metadata: { ownerReferences: [{ uid: "u1", name: "b" }] },
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "Paused", status: "False" },
        ],
      },
      spec: { volumeMounts: [{ mountPath: "/a", name: "x", readOnly: true }] },
    });
  });

  it("replaces lists without a merge key, such as tolerations, and deletes on null", () => {
    const result = applyStrategicMergePatch(pod(), {
      metadata: { labels: null },
      spec: { tolerations: [{ key: "t3" }] },
    }) as ReturnType<typeof pod>;
    expect(result.spec.tolerations).toEqual([{ key: "t3" }]);
    expect(Object.keys(result.metadata)).toEqual(["name", "finalizers"]);
  });

  it("refuses malformed directives", () => {
    expectRefusal(
      () => applyStrategicMergePatch(pod(), { spec: { containers: [{ $patch: "delete" }] } }),
      422,
      "map: map[$patch:delete] does not contain declared merge key: name",
    );
    expectRefusal(
      () => applyStrategicMergePatch(pod(), { spec: { containers: [{ name: "a", $patch: "frob" }] } }),
      422,
      "unknown patch type: frob in map: map[$patch:frob name:a]",
    );
    expectRefusal(
      () => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: "x" }] } }),
      422,
      "map: map[image:x] does not contain declared merge key: name",
    );
    expectRefusal(
      () => applyStrategicMergePatch({ metadata: {} }, { metadata: { finalizers: [["x"]] } }),
      422,
      "lists of lists are not supported",
    );
    expectRefusal(
      () => applyStrategicMergePatch(pod(), { metadata: { finalizers: [1] } }),
      422,
      "list element types are not identical: [[a b] [1]]",
    );
    expectRefusal(
      () => applyStrategicMergePatch(pod(), { metadata: { $deleteFromPrimitiveListfinalizers: ["a"] } }),
      400,
      "invalid patch format of primitive list",
    );
  });

  it("refuses a body that is not an object with 400, and treats null as no change", () => {
    expectRefusal(
      () => applyStrategicMergePatch(pod(), [{ op: "add" }]),
      400,
      "json: cannot unmarshal array into Go value of type map[string]interface {}",
    );
    expect(applyStrategicMergePatch(pod(), null)).toEqual(pod());
  });

  it("never mutates the patch", () => {
    const patch = { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } };
    const before = structuredClone(patch);
    applyStrategicMergePatch(pod(), patch);
    expect(patch).toEqual(before);
  });
});

describe("applyPatch", () => {
  it("dispatches on the patch type", () => {
    const doc = { spec: { containers: [{ name: "a" }, { name: "b", image: "1" }] } };
    const patch = { spec: { containers: [{ name: "b", image: "2" }] } };
    expect(applyPatch(doc, patch, "merge")).toEqual({ spec: { containers: [{ name: "b", image: "2" }] } });
    expect(applyPatch(doc, patch, "strategic")).toEqual({
      spec: { containers: [{ name: "a" }, { name: "b", image: "2" }] },
    });
    expect(applyPatch(doc, [{ op: "remove", path: "/spec/containers/0" }], "json")).toEqual({
      spec: { containers: [{ name: "b", image: "1" }] },
    });
  });
});
