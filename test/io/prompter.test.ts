import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { InterruptedError, UsageError } from "../../src/errors.js";
import { createIO } from "../../src/io/io.js";
import type { Prompter } from "../../src/io/prompter.js";
import {
  createPrompter,
  InquirerPrompter,
  lazyPrompter,
  NonInteractivePrompter,
} from "../../src/io/prompter-impl.js";
import { bufferedStreams } from "../helpers/buffered-io.js";

describe("createPrompter", () => {
  it("asks on a terminal and refuses without one", () => {
    const tty = createPrompter(createIO(bufferedStreams({ tty: true }).streams, {}));
    expect(tty).toBeInstanceOf(InquirerPrompter);
    expect(tty.interactive).toBe(true);
    const pipe = createPrompter(createIO(bufferedStreams({ tty: true, stdinTTY: false }).streams, {}));
    expect(pipe).toBeInstanceOf(NonInteractivePrompter);
    expect(pipe.interactive).toBe(false);
  });
});

describe("lazyPrompter", () => {
  it("makes createPrompter's choice on first use, not before", async () => {
    let asked = 0;
    const terminal = createIO(bufferedStreams({ tty: true }).streams, {});
    const io = Object.create(terminal, {
      interactive: {
        get() {
          asked++;
          return false;
        },
      },
    });
    const prompter = lazyPrompter(io);
    expect(asked).toBe(0);
    expect(prompter.interactive).toBe(false);
    await expect(prompter.confirm({ message: "Restart vm-1?", flag: "--yes" })).rejects.toThrow(UsageError);
    expect(asked).toBe(1);
    expect(lazyPrompter(terminal).interactive).toBe(true);
  });
});

describe("NonInteractivePrompter", () => {
  const prompter: Prompter = new NonInteractivePrompter();
  const choices = [{ name: "a", value: 1 }];

  it.each([
    [
      "confirm",
      () => prompter.confirm({ message: "Restart vm-1?", flag: "--yes" }),
      "Restart vm-1?",
      "--yes",
    ],
    [
      "select",
      () => prompter.select({ message: "Target node:", flag: "--node", choices }),
      "Target node",
      "--node",
    ],
    ["search", () => prompter.search({ message: "Which VM? ", flag: "<vm>", choices }), "Which VM?", "<vm>"],
    ["input", () => prompter.input({ message: "Namespace", flag: "-n" }), "Namespace", "-n"],
    [
      "checkbox",
      () => prompter.checkbox({ message: "VMs to drain:", flag: "--all", choices }),
      "VMs to drain",
      "--all",
    ],
  ])("%s is a usage error naming the flag", async (_kind, ask, subject, flag) => {
    const error = await ask().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({
      message: `"${subject}" needs an answer and there is no terminal to ask on`,
      hint: `pass ${flag}`,
      exitCode: 2,
    });
  });
});

describe("InquirerPrompter", () => {
  function terminal() {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let drawn = "";
    stderr.on("data", (chunk: Buffer) => {
      drawn += chunk.toString();
    });
    const stdout = { isTTY: true, write: () => true };
    const io = createIO({ stdin, stdout, stderr }, { NO_COLOR: "1" });
    return { io, stdin, drawn: () => drawn };
  }

  async function whenDrawn(t: ReturnType<typeof terminal>, text: string): Promise<void> {
    for (let i = 0; i < 200 && !t.drawn().includes(text); i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.drawn()).toContain(text);
  }

  it("draws on stderr and filters search choices by substring, ignoring case", async () => {
    const t = terminal();
    const answer = new InquirerPrompter(t.io).search({
      message: "Which VM?",
      flag: "<vm>",
      choices: [
        { name: "web-1", value: "w1" },
        { name: "Database", value: "db" },
      ],
    });
    await whenDrawn(t, "Which VM?");
    t.stdin.write("BASE");
    await whenDrawn(t, "BASE");
    t.stdin.write("\r");
    await expect(answer).resolves.toBe("db");
  });

  it("turns Ctrl-C into an InterruptedError", async () => {
    const t = terminal();
    const answer = new InquirerPrompter(t.io).confirm({ message: "Restart vm-1?", flag: "--yes" });
    await whenDrawn(t, "Restart vm-1?");
    t.stdin.write("\u0003");
    const error = await answer.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error).toMatchObject({ message: "cancelled at the prompt", exitCode: 130 });
  });

  async function failure(answer: Promise<unknown>): Promise<unknown> {
    return answer.then(
      () => undefined,
      (e: unknown) => e,
    );
  }

  const vms = [
    { name: "web-1", value: "w1" },
    { name: "db-1", value: "db" },
  ];

  it("Esc cancels a picker: an InterruptedError, exit 130, as Ctrl-C", async () => {
    const t = terminal();
    const answer = new InquirerPrompter(t.io).search({ message: "Which VM?", flag: "<vm>", choices: vms });
    await whenDrawn(t, "web-1");
    t.stdin.write("\u001B");
    const error = await failure(answer);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error).toMatchObject({ message: "cancelled at the prompt", exitCode: 130 });
  });

  it("Esc then Ctrl-C typed at once is not swallowed: the prompt ends at the Ctrl-C", async () => {
    const t = terminal();
    const answer = new InquirerPrompter(t.io).confirm({ message: "Restart vm-1?", flag: "--yes" });
    await whenDrawn(t, "Restart vm-1?");
    // One piece, as a quick typist's terminal sends it; readline alone reads it as Meta-Ctrl-C.
    t.stdin.write("\u001B\u0003");
    const error = await failure(answer);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error).toMatchObject({ message: "cancelled at the prompt", exitCode: 130 });
  });

  it("an arrow key (an escape sequence) still moves the cursor and cancels nothing", async () => {
    const t = terminal();
    const answer = new InquirerPrompter(t.io).search({ message: "Which VM?", flag: "<vm>", choices: vms });
    await whenDrawn(t, "web-1");
    t.stdin.write("\u001B[B");
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.stdin.write("\r");
    await expect(answer).resolves.toBe("db");
  });

  it("a picker row longer than the terminal is cut to its width, and found by its whole text", async () => {
    const t = terminal();
    const long = `db-1   node-1   Running   ${"x".repeat(100)}-tail`;
    const answer = new InquirerPrompter(t.io).search({
      message: "Which VM?",
      flag: "<vm>",
      choices: [...vms.slice(0, 1), { name: long, value: "db" }],
    });
    await whenDrawn(t, "db-1   node-1");
    const drawnRow = t
      .drawn()
      .split(/\r?\n/)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: cursor moves are taken out.
      .map((line) => line.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, ""))
      .find((line) => line.includes("db-1   node-1"));
    expect(drawnRow).toMatch(/x…$/);
    expect(drawnRow?.length).toBeLessThan(80);
    t.stdin.write("tail");
    await whenDrawn(t, "tail");
    t.stdin.write("\r");
    await expect(answer).resolves.toBe("db");
  });
});
