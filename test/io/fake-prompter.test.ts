import { describe, expect, it } from "vitest";
import { FakePrompter } from "../helpers/fake-prompter.js";

const vms = [
  { name: "vm-1", value: { ns: "a", name: "vm-1" } },
  { name: "vm-2", value: { ns: "a", name: "vm-2" } },
];

describe("FakePrompter", () => {
  it("answers expected questions in order", async () => {
    const p = new FakePrompter()
      .expect("confirm", /Restart/, true)
      .expect("search", "Which VM?", { ns: "a", name: "vm-2" })
      .expect("input", /Namespace/, "prod")
      .expect("checkbox", /drain/, [{ ns: "a", name: "vm-1" }]);
    expect(await p.confirm({ message: "Restart vm-1?", flag: "--yes" })).toBe(true);
    const vm = await p.search({ message: "Which VM?", flag: "<vm>", choices: vms });
    expect(vm).toBe(vms[1]?.value);
    expect(await p.input({ message: "Namespace", flag: "-n" })).toBe("prod");
    expect(await p.checkbox({ message: "VMs to drain", flag: "--all", choices: vms })).toEqual([
      vms[0]?.value,
    ]);
    p.assertDone();
    expect(p.asked.map((q) => q.flag)).toEqual(["--yes", "<vm>", "-n", "--all"]);
  });

  it("takes expectations in the constructor", async () => {
    const p = new FakePrompter([["confirm", /Abort/, false]]);
    expect(await p.confirm({ message: "Abort the migration?", flag: "--yes" })).toBe(false);
    p.assertDone();
  });

  it("fails on a question nobody expected", async () => {
    const p = new FakePrompter();
    await expect(p.confirm({ message: "Restart?", flag: "--yes" })).rejects.toThrow(
      /unexpected confirm question/,
    );
  });

  it("fails on the wrong kind or message", async () => {
    await expect(
      new FakePrompter().expect("confirm", /Restart/, true).input({ message: "Restart", flag: "-r" }),
    ).rejects.toThrow(/expected confirm/);
    await expect(
      new FakePrompter().expect("confirm", /Restart/, true).confirm({ message: "Abort?", flag: "--yes" }),
    ).rejects.toThrow(/but was asked confirm "Abort\?"/);
  });

  it("fails when the answer is not a choice or fails validation", async () => {
    await expect(
      new FakePrompter().expect("select", /VM/, "vm-3").select({ message: "VM", flag: "<vm>", choices: vms }),
    ).rejects.toThrow(/not among the choices/);
    await expect(
      new FakePrompter()
        .expect("input", /Port/, "x")
        .input({ message: "Port", flag: "--port", validate: (v) => (/^\d+$/.test(v) ? true : "a number") }),
    ).rejects.toThrow(/failed validation: a number/);
  });

  it("assertDone fails while expectations are left", () => {
    const p = new FakePrompter().expect("confirm", /Restart/, true);
    expect(() => p.assertDone()).toThrow(/1 expected question\(s\) never asked: confirm \/Restart\//);
  });
});
