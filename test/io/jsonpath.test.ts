// kubectl's JSONPath dialect (src/io/jsonpath.ts) without kubectl: the expected texts are what
// kubectl 1.32 prints for the same template and data (jsonpath-kubectl.test.ts runs both).
import { describe, expect, it } from "vitest";
import { JsonPath, JsonPathError } from "../../src/io/jsonpath.js";

const data = {
  kind: "List",
  items: [
    { metadata: { name: "a", namespace: "demo", labels: { app: "web" } }, cpus: 2, load: 0.5, on: true },
    { metadata: { name: "b", namespace: "prod" }, cpus: 4, load: 1.5, on: false, tags: ["x", "y"] },
  ],
  note: "<&>",
  nothing: null,
};

const run = (template: string, allowMissingKeys = true) =>
  new JsonPath(template, { allowMissingKeys }).execute(data);

function failure(template: string, allowMissingKeys = true): string {
  try {
    run(template, allowMissingKeys);
  } catch (error) {
    expect(error).toBeInstanceOf(JsonPathError);
    return (error as Error).message;
  }
  throw new Error(`${template} did not fail`);
}

describe("JSONPath: selecting", () => {
  it.each([
    ["{.kind}", "List"],
    ["{$.kind}", "List"],
    ["kind={.kind}.", "kind=List."],
    ["{.items[*].metadata.name}", "a b"],
    ["{.items[0].metadata.name}", "a"],
    ["{.items[-1].metadata.name}", "b"],
    ["{.items[0:1].metadata.name}", "a"],
    ["{.items[1:].cpus}", "4"],
    ["{.items[::2].cpus}", "2"],
    ["{.items[0,1].cpus}", "2 4"],
    ["{.items[0]['cpus','load']}", "2 0.5"],
    ["{.items[0].metadata['name']}", "a"],
    ["{..name}", "a b"],
    ["{.items[1].tags[*]}", "x y"],
    ["{.items[1].tags}", '["x","y"]'],
    ["{.items[0].metadata.labels}", '{"app":"web"}'],
    ["{.items[0].metadata}", '{"labels":{"app":"web"},"name":"a","namespace":"demo"}'],
    ["{.note}", "<&>"],
    ["{.items[*].on}", "true false"],
    ["{.nothing}", "null"],
    ['{"a\\tb\\n"}', "a\tb\n"],
    ["{'it\\'s'}", "it's"],
    ["{.missing}", ""],
    ["{.items[0:0]}", ""],
  ])("%s prints %j", (template, expected) => {
    expect(run(template)).toBe(expected);
  });

  it("maps and arrays are JSON as Go writes it: keys sorted, <, > and & escaped", () => {
    expect(new JsonPath("{.x}").execute({ x: { b: "<&>", a: [1, 0.25] } })).toBe(
      '{"a":[1,0.25],"b":"\\u003c\\u0026\\u003e"}',
    );
  });

  it("a float prints as Go's %v: exponent form from 1e6 and below 1e-4", () => {
    const path = new JsonPath("{.a} {.b} {.c} {.d}");
    expect(path.execute({ a: 1234567.5, b: 123456.5, c: 0.00001, d: 0.0001 })).toBe(
      "1.2345675e+06 123456.5 1e-05 0.0001",
    );
  });
});

describe("JSONPath: filters", () => {
  it.each([
    ['{.items[?(@.metadata.namespace == "demo")].metadata.name}', "a"],
    ["{.items[?(@.metadata.namespace != 'demo')].metadata.name}", "b"],
    ["{.items[?(@.cpus > 2)].metadata.name}", "b"],
    ["{.items[?(@.cpus >= 2)].metadata.name}", "a b"],
    ["{.items[?(@.cpus < 4)].metadata.name}", "a"],
    ["{.items[?(@.cpus <= 4)].metadata.name}", "a b"],
    ["{.items[?(@.load > 1.0)].metadata.name}", "b"],
    ["{.items[?(@.on == true)].metadata.name}", "a"],
    ["{.items[?(@.tags)].metadata.name}", "b"],
    ["{.items[?(@.metadata.labels.app)].metadata.name}", "a"],
    // An existence test whose step fails keeps the item when the step hands its input on, as
    // client-go's does: an index out of bounds (a's tags are missing, b's too short) and a string
    // indexed like an array.
    ["{.items[?(@.tags[5])].metadata.name}", "b"],
    ["{.items[?(@.metadata.name[0])].metadata.name}", "a b"],
  ])("%s prints %j", (template, expected) => {
    expect(run(template)).toBe(expected);
  });

  it.each([
    ["{.items[?(@.load > 1)].cpus}", "incompatible types for comparison"],
    ['{.items[?(@.cpus == "2")].cpus}', "incompatible types for comparison"],
    ["{.items[?(@.metadata == 1)].cpus}", "invalid type for comparison"],
    ["{.items[?(@.on < true)].cpus}", "invalid type for comparison"],
    ["{.items[?(@.cpus = 2)].cpus}", "unrecognized filter operator ="],
    ["{.kind[?(@.x)]}", "List is not array or slice and cannot be filtered"],
  ])("%s fails: %s", (template, message) => {
    expect(failure(template)).toBe(message);
  });
});

describe("JSONPath: range", () => {
  it("repeats its body for each result", () => {
    expect(run('{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}')).toBe(
      "demo/a\nprod/b\n",
    );
  });

  it("nests, and goes on after its end", () => {
    expect(run("{range .items[*]}[{range .tags[*]}<{@}>{end}]{end}{.kind}")).toBe("[][<x><y>]List");
  });

  it("over nothing prints nothing", () => {
    expect(run("{range .none[*]}x{end}done")).toBe("done");
  });

  it("an end without a range fails", () => {
    expect(failure("{end}")).toBe("not in range, nothing to end");
  });
});

describe("JSONPath: errors as kubectl words them", () => {
  it.each([
    ["{.items[5]}", "array index out of bounds: index 5, length 2"],
    ["{.items[-3]}", "array index out of bounds: index -1, length 2"],
    ["{.items[0:5]}", "array index out of bounds: index 4, length 2"],
    ["{.items[1:0]}", "starting index 1 is greater than ending index 0"],
    ["{.items[::0]}", "step must be > 0"],
    ["{.kind[0]}", "string is not array or slice"],
    ["{.items[0].metadata[0]}", "map[string]interface {} is not array or slice"],
    ["{bogus}", "unrecognized identifier bogus"],
  ])("%s fails: %s", (template, message) => {
    expect(failure(template)).toBe(message);
  });

  it("a missing key is an error unless missing keys are allowed (kubectl get allows them)", () => {
    expect(failure("{.missing}", false)).toBe("missing is not found");
    expect(run("{.missing}", true)).toBe("");
  });

  it.each([
    ["{.kind", "unclosed action"],
    ["{.items[0}", "unterminated array"],
    ['{.items[?(@.a == "x)]}', "unterminated filter"],
    ["{.items[?(@.a == 1}", "unterminated filter"],
    ['{"open}', "unterminated quoted string"],
    ["{.items[a]}", "invalid array index a"],
    ["{#}", "unrecognized character in action: U+0023 '#'"],
    ["{....a}", "invalid multiple recursive descent"],
    ["{1.2.3}", "cannot parse number 1.2.3"],
    ['{"\\q"}', 'unquote string "\\q" error invalid syntax'],
  ])("%s does not parse: %s", (template, message) => {
    expect(() => new JsonPath(template)).toThrow(new JsonPathError(message));
  });
});

describe("JSONPath: jsonpath-as-json", () => {
  it("prints each {...}'s results as an indented JSON array", () => {
    const path = new JsonPath("{.items[*].cpus}{.kind}", { allowMissingKeys: true, outputJson: true });
    expect(path.execute(data)).toBe('[\n    2,\n    4\n]\n[\n    "List"\n]\n');
  });
});
