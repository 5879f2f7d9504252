// The two Prompters: inquirer on a terminal, and one that turns every question into a usage
// error naming the flag that answers it.
import { Readable, Writable } from "node:stream";
import { InterruptedError, UsageError } from "../errors.js";
import type * as Inquirer from "./inquirer.js";
import type { ColorScheme, IO } from "./io.js";
import type {
  CheckboxQuestion,
  Choice,
  ConfirmQuestion,
  InputQuestion,
  Prompter,
  SelectQuestion,
} from "./prompter.js";
import { cutToWidth } from "./table.js";
import { toTerminal, untag } from "./untrusted.js";

export function createPrompter(io: IO): Prompter {
  return io.interactive ? new InquirerPrompter(io) : new NonInteractivePrompter();
}

/**
 * createPrompter's choice, made on first use: whether the session is interactive looks at stdin
 * and stderr, which a run that never asks (kvmig --help) need not open.
 */
export function lazyPrompter(io: IO): Prompter {
  let chosen: Prompter | undefined;
  const prompter = () => {
    chosen ??= createPrompter(io);
    return chosen;
  };
  return {
    get interactive() {
      return prompter().interactive;
    },
    confirm: (q) => prompter().confirm(q),
    select: (q) => prompter().select(q),
    search: (q) => prompter().search(q),
    input: (q) => prompter().input(q),
    checkbox: (q) => prompter().checkbox(q),
  };
}

type Context = { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; signal?: AbortSignal };

/** How long after a lone ESC byte the rest of an escape sequence (an arrow key) may still come. */
const escapeSequenceMs = 50;

/**
 * Esc and Ctrl-C, read from the raw input beside inquirer. inquirer ignores Esc, and readline
 * holds an ESC for half a second waiting for the rest of a sequence, reading an ESC and a Ctrl-C
 * typed within it as one Meta-Ctrl-C, which nothing answers: the Ctrl-C was lost. Here a lone
 * ESC with nothing after it cancels the prompt, and a Ctrl-C byte anywhere in what arrives does
 * at once; an arrow key (ESC [ A in one piece, or its bytes close together) is left alone.
 */
function cancelKeys(input: NodeJS.ReadableStream): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let pendingEscape: ReturnType<typeof setTimeout> | undefined;
  const cancel = (why: string) => {
    if (!controller.signal.aborted) controller.abort(new Error(why));
  };
  const onData = (chunk: Buffer | string) => {
    const text = typeof chunk === "string" ? chunk : chunk.toString("latin1");
    if (pendingEscape !== undefined) {
      clearTimeout(pendingEscape);
      pendingEscape = undefined;
    }
    if (text.includes("\u0003")) cancel("Ctrl-C");
    else if (text === "\u001B") {
      pendingEscape = setTimeout(() => cancel("Esc"), escapeSequenceMs);
      pendingEscape.unref?.();
    }
  };
  input.on("data", onData);
  return {
    signal: controller.signal,
    stop: () => {
      if (pendingEscape !== undefined) clearTimeout(pendingEscape);
      input.removeListener("data", onData);
    },
  };
}

export class InquirerPrompter implements Prompter {
  readonly interactive = true;
  #prompts: Promise<typeof Inquirer> | undefined;

  constructor(private readonly io: IO) {}

  confirm(q: ConfirmQuestion): Promise<boolean> {
    return this.#ask((p, ctx) =>
      p.confirm({ message: toTerminal(q.message), default: q.default, theme: this.#theme() }, ctx),
    );
  }

  select<T>(q: SelectQuestion<T>): Promise<T> {
    return this.#ask((p, ctx) =>
      p.select<T>(
        {
          message: toTerminal(q.message),
          choices: toChoices(q.choices),
          default: q.default,
          theme: this.#theme(),
        },
        ctx,
      ),
    );
  }

  search<T>(q: SelectQuestion<T>): Promise<T> {
    const choices = q.choices;
    // Filtered on the whole name, shown cut to the width the terminal has now ("❯ " before each).
    const source = (term: string | undefined) => {
      const needle = (term ?? "").trim().toLowerCase();
      const found = needle === "" ? choices : choices.filter((c) => c.name.toLowerCase().includes(needle));
      return this.#fit(toChoices(found), 2);
    };
    return this.#ask((p, ctx) =>
      p.search<T>({ message: toTerminal(q.message), source, theme: this.#theme() }, ctx),
    );
  }

  input(q: InputQuestion): Promise<string> {
    return this.#ask((p, ctx) =>
      p.input(
        { message: toTerminal(q.message), default: q.default, validate: q.validate, theme: this.#theme() },
        ctx,
      ),
    );
  }

  checkbox<T>(q: CheckboxQuestion<T>): Promise<T[]> {
    return this.#ask((p, ctx) =>
      p.checkbox<T>(
        {
          message: toTerminal(q.message),
          choices: this.#fit(toChoices(q.choices), 3).map((c, i) => ({
            ...c,
            checked: q.choices[i]?.checked ?? false,
          })) as {
            name: string;
            value: T;
            checked: boolean;
          }[],
          pageSize: 15,
          theme: this.#theme(),
        },
        ctx,
      ),
    );
  }

  async #ask<R>(run: (prompts: typeof Inquirer, ctx: Context) => Promise<R>): Promise<R> {
    this.#prompts ??= import("./inquirer.js");
    const prompts = await this.#prompts;
    const ctx = this.#context();
    const keys = cancelKeys(ctx.input);
    try {
      return await run(prompts, { ...ctx, signal: keys.signal });
    } catch (error) {
      if (error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError")) {
        throw new InterruptedError("cancelled at the prompt", { cause: error });
      }
      throw error;
    } finally {
      keys.stop();
    }
  }

  // Prompts draw on stderr so stdout stays clean for data even in an interactive session.
  #context(): Context {
    const stdin = this.io.streams.stdin.open?.() ?? this.io.streams.stdin;
    const stderr = this.io.streams.stderr;
    if (!(stdin instanceof Readable) || !(stderr instanceof Writable)) {
      throw new Error("interactive prompts need Node.js stdin and stderr streams");
    }
    return { input: stdin, output: stderr };
  }

  /**
   * Choice names (toChoices made them ready for the terminal) cut to the terminal's width: a
   * wrapped row would break the list's redraw.
   */
  #fit<C extends { name: string }>(choices: readonly C[], indent: number): C[] {
    const width = this.io.columns - indent;
    return choices.map((c) => ({ ...c, name: cutToWidth(c.name, width - 1) }));
  }

  // inquirer colours by what stdout supports; follow our stderr decision (and --no-color) instead.
  // It writes to the raw stream: our colours go in the form a terminal reads (untag), and a
  // default answer (which may come from the cluster) is shown safe.
  #theme() {
    const c: ColorScheme = this.io.errColors;
    const style = (f: (text: string) => string) => (text: string) => untag(f(text));
    return {
      prefix: { idle: untag(c.accent("?")), done: untag(c.ok("✔")) },
      style: {
        answer: style(c.accent),
        message: style(c.bold),
        error: style((text) => c.error(`> ${toTerminal(text)}`)),
        defaultAnswer: style((text) => c.dim(`(${toTerminal(text)})`)),
        help: style(c.dim),
        highlight: style(c.accent),
        key: style((text) => c.accent(c.bold(`<${text}>`))),
      },
    };
  }
}

export class NonInteractivePrompter implements Prompter {
  readonly interactive = false;

  async confirm(q: ConfirmQuestion): Promise<boolean> {
    throw unanswerable(q);
  }
  async select<T>(q: SelectQuestion<T>): Promise<T> {
    throw unanswerable(q);
  }
  async search<T>(q: SelectQuestion<T>): Promise<T> {
    throw unanswerable(q);
  }
  async input(q: InputQuestion): Promise<string> {
    throw unanswerable(q);
  }
  async checkbox<T>(q: CheckboxQuestion<T>): Promise<T[]> {
    throw unanswerable(q);
  }
}

function unanswerable(q: { message: string; flag: string }): UsageError {
  const question = q.message.trim().replace(/[\s:]+$/, "");
  return new UsageError(`"${question}" needs an answer and there is no terminal to ask on`, {
    hint: `pass ${q.flag}`,
  });
}

/** The choices as inquirer takes them: it writes to the raw stream, so names and descriptions are made safe. */
function toChoices<T>(choices: ReadonlyArray<Choice<T>>) {
  return choices.map((c) => ({
    name: toTerminal(c.name),
    value: c.value,
    description: c.description === undefined ? undefined : toTerminal(c.description),
  }));
}
