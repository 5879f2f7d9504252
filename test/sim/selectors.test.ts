// Label and field selectors against the API server's own grammar and messages: what matches, and
// the exact words of each refusal, since kvmig surfaces the server's message to the user.
import { describe, expect, it } from "vitest";
import { parseFieldSelector, parseLabelSelector, SelectorError } from "../../src/sim/selectors.js";

function labelError(text: string): string {
  try {
    parseLabelSelector(text);
  } catch (error) {
    expect(error).toBeInstanceOf(SelectorError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

function fieldError(text: string, supported: string[] = []): string {
  try {
    parseFieldSelector(text, new Set(supported));
  } catch (error) {
    expect(error).toBeInstanceOf(SelectorError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

const labelRegex = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const valueRule =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start " +
  `and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${labelRegex}')`;
const nameRule =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe("parseLabelSelector", () => {
  it("selects everything when the selector is absent or blank", () => {
    for (const text of [undefined, "", "   "]) {
      const selector = parseLabelSelector(text);
      expect(selector.empty).toBe(true);
      expect(selector.matches(undefined)).toBe(true);
      expect(selector.matches({ a: "b" })).toBe(true);
    }
  });

  it("treats a bare key as exists, even with an empty value", () => {
    const selector = parseLabelSelector("kubevirt.io/outdatedLauncherImage");
    expect(selector.empty).toBe(false);
    expect(selector.matches({ "kubevirt.io/outdatedLauncherImage": "" })).toBe(true);
    expect(selector.matches({ "kubevirt.io/other": "" })).toBe(false);
    expect(selector.matches(undefined)).toBe(false);
  });

  it("treats !key as does-not-exist", () => {
    const selector = parseLabelSelector("!kubevirt.io/outdatedLauncherImage");
    expect(selector.matches({})).toBe(true);
    expect(selector.matches(undefined)).toBe(true);
    expect(selector.matches({ "kubevirt.io/outdatedLauncherImage": "" })).toBe(false);
  });

  it("ANDs set-based and inequality requirements", () => {
    const selector = parseLabelSelector("env in (prod, staging),tier!=db");
    expect(selector.matches({ env: "prod", tier: "web" })).toBe(true);
    expect(selector.matches({ env: "staging" })).toBe(true);
    expect(selector.matches({ env: "dev", tier: "web" })).toBe(false);
    expect(selector.matches({ env: "prod", tier: "db" })).toBe(false);
    expect(selector.matches({ tier: "web" })).toBe(false);
  });

  it("lets notin and != match objects without the key", () => {
    const notin = parseLabelSelector("a notin (x)");
    expect(notin.matches({})).toBe(true);
    expect(notin.matches({ a: "y" })).toBe(true);
    expect(notin.matches({ a: "x" })).toBe(false);
    const notEquals = parseLabelSelector("a!=x");
    expect(notEquals.matches(undefined)).toBe(true);
    expect(notEquals.matches({ a: "x" })).toBe(false);
  });

  it("reads =, == and an empty value", () => {
    expect(parseLabelSelector("kubevirt.io/vmi-name=vm1").matches({ "kubevirt.io/vmi-name": "vm1" })).toBe(
      true,
    );
    expect(parseLabelSelector("a==b").matches({ a: "b" })).toBe(true);
    expect(parseLabelSelector("a==b").matches({ a: "c" })).toBe(false);
    const empty = parseLabelSelector("a=");
    expect(empty.matches({ a: "" })).toBe(true);
    expect(empty.matches({ a: "x" })).toBe(false);
    expect(empty.matches({})).toBe(false);
  });

  it("tolerates whitespace around every token", () => {
    const selector = parseLabelSelector("  a = b ,\t! c , d  in ( x , y ) ");
    expect(selector.matches({ a: "b", d: "y" })).toBe(true);
    expect(selector.matches({ a: "b", c: "1", d: "y" })).toBe(false);
  });

  it("reads in and notin as values inside a set, and empty set members", () => {
    expect(parseLabelSelector("x in (in, notin)").matches({ x: "notin" })).toBe(true);
    expect(parseLabelSelector("a in ()").matches({ a: "" })).toBe(true);
    const commas = parseLabelSelector("a in (,b)");
    expect(commas.matches({ a: "" })).toBe(true);
    expect(commas.matches({ a: "b" })).toBe(true);
    expect(commas.matches({ a: "c" })).toBe(false);
  });

  it("compares integers with > and <", () => {
    const selector = parseLabelSelector("gen>2,gen<10");
    expect(selector.matches({ gen: "5" })).toBe(true);
    expect(selector.matches({ gen: "2" })).toBe(false);
    expect(selector.matches({ gen: "10" })).toBe(false);
    expect(selector.matches({ gen: "five" })).toBe(false);
    expect(selector.matches({})).toBe(false);
    expect(labelError("gen>x")).toBe(
      `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`,
    );
  });

  it("refuses syntax errors with the server's words", () => {
    expect(labelError("a in")).toBe("unable to parse requirement: found '' expected: '('");
    expect(labelError("a in (b")).toBe("unable to parse requirement: found '', expected: ',' or ')'");
    expect(labelError("a in (b c)")).toBe("unable to parse requirement: found 'c', expected: ',' or ')'");
    expect(labelError("a in (=)")).toBe(
      "unable to parse requirement: found '=', expected: ',', ')' or identifier",
    );
    expect(labelError("a in (b,=)")).toBe(
      "unable to parse requirement: found '=', expected: ',', or identifier",
    );
    expect(labelError("a b")).toBe(
      "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
    );
    expect(labelError("a=(b")).toBe("unable to parse requirement: found '(', expected: identifier");
    expect(labelError("!")).toBe("unable to parse requirement: found '', expected: identifier");
    expect(labelError("!a=b")).toBe("found '=', expected: ',' or 'end of string'");
    expect(labelError("a=b c")).toBe("found 'c', expected: ',' or 'end of string'");
    expect(labelError("a,")).toBe("found '', expected: identifier after ','");
    expect(labelError(",a")).toBe("found ',', expected: !, identifier, or 'end of string'");
  });

  it("validates values like label values", () => {
    expect(labelError("kubevirt.io/x=a$b")).toBe(
      `unable to parse requirement: values[0][kubevirt.io/x]: Invalid value: "a$b": ${valueRule}`,
    );
    const long = "v".repeat(64);
    expect(labelError(`a=${long}`)).toBe(
      `unable to parse requirement: values[0][a]: Invalid value: "${long}": must be no more than 63 characters`,
    );
    expect(labelError("a in (b$, c$)")).toBe(
      `unable to parse requirement: [values[0][a]: Invalid value: "b$": ${valueRule}, ` +
        `values[1][a]: Invalid value: "c$": ${valueRule}]`,
    );
  });

  it("validates keys like qualified names", () => {
    expect(labelError("-a")).toBe(
      `unable to parse requirement: <nil>: Invalid value: "-a": name part ${nameRule}`,
    );
    expect(labelError("/a")).toBe(
      `unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty`,
    );
    expect(labelError("Example.com/a")).toBe(
      `unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain ` +
        "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric " +
        "character (e.g. 'example.com', regex used for validation is " +
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
    expect(labelError("a/b/c")).toBe(
      `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name ${nameRule} ` +
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    const long = "k".repeat(64);
    expect(labelError(long)).toBe(
      `unable to parse requirement: <nil>: Invalid value: "${long}": name part must be no more than 63 characters`,
    );
    expect(labelError("example.com/")).toBe(
      `unable to parse requirement: <nil>: Invalid value: "example.com/": name part must be non-empty; name part ${nameRule}`,
    );
  });
});

describe("parseFieldSelector", () => {
  const eventFields = new Set(["involvedObject.kind", "involvedObject.name", "reason", "type"]);

  it("selects everything when the selector is absent or empty", () => {
    for (const text of [undefined, ""]) {
      const selector = parseFieldSelector(text, eventFields);
      expect(selector.requirements).toEqual([]);
      expect(selector.matches(() => undefined)).toBe(true);
    }
  });

  it("ANDs equality terms", () => {
    const selector = parseFieldSelector(
      "involvedObject.kind=VirtualMachineInstance,reason=Migrating",
      eventFields,
    );
    expect(selector.requirements).toEqual([
      { field: "involvedObject.kind", operator: "=", value: "VirtualMachineInstance" },
      { field: "reason", operator: "=", value: "Migrating" },
    ]);
    const fields: Record<string, string> = {
      "involvedObject.kind": "VirtualMachineInstance",
      reason: "Migrating",
    };
    expect(selector.matches((field) => fields[field])).toBe(true);
    fields.reason = "Migrated";
    expect(selector.matches((field) => fields[field])).toBe(false);
  });

  it("reads != and ==, and compares a missing field as empty", () => {
    const phase = new Set(["status.phase"]);
    const notRunning = parseFieldSelector("status.phase!=Running", phase);
    expect(notRunning.requirements).toEqual([{ field: "status.phase", operator: "!=", value: "Running" }]);
    expect(notRunning.matches(() => "Pending")).toBe(true);
    expect(notRunning.matches(() => "Running")).toBe(false);
    expect(notRunning.matches(() => undefined)).toBe(true);
    const running = parseFieldSelector("status.phase==Running", phase);
    expect(running.requirements).toEqual([{ field: "status.phase", operator: "=", value: "Running" }]);
    expect(parseFieldSelector("status.phase=", phase).matches(() => undefined)).toBe(true);
  });

  it("unescapes \\, \\= and \\\\ in values", () => {
    const selector = parseFieldSelector("metadata.name=a\\,b\\=c\\\\d", new Set(["metadata.name"]));
    expect(selector.requirements).toEqual([{ field: "metadata.name", operator: "=", value: "a,b=c\\d" }]);
    expect(selector.matches(() => "a,b=c\\d")).toBe(true);
  });

  it("refuses a field label the resource does not support", () => {
    expect(fieldError("spec.nodeName=node01", ["metadata.name"])).toBe(
      "field label not supported: spec.nodeName",
    );
  });

  it("refuses terms it cannot read, reporting the first in sorted order", () => {
    expect(fieldError("status.phase")).toBe(
      "invalid selector: 'status.phase'; can't understand 'status.phase'",
    );
    expect(fieldError("b,a")).toBe("invalid selector: 'b,a'; can't understand 'a'");
    // The whole selector is parsed before any field label is checked.
    expect(fieldError("a=1,zz")).toBe("invalid selector: 'a=1,zz'; can't understand 'zz'");
  });

  it("refuses bad escapes and unescaped separators", () => {
    expect(fieldError("x=a=b", ["x"])).toBe("invalid field selector: unescaped character in value: 61");
    expect(fieldError("x=a\\b", ["x"])).toBe("invalid field selector: invalid escape sequence: \\b");
    expect(fieldError("x=a\\", ["x"])).toBe("invalid field selector: invalid escape sequence: \\");
  });
});
