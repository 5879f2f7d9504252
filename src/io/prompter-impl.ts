// The two Prompters: inquirer on a terminal, and one that turns every question into a usage
// error naming the flag that answers it.
import { Readable, Writable } from "node:stream";
import type * as Inquirer from "@inquirer/prompts";
import { InterruptedError, UsageError } from "../errors.js";
import type { ColorScheme, IO } from "./io.js";
import type {
  CheckboxQuestion,
  Choice,
  ConfirmQuestion,
  InputQuestion,
  Prompter,
  SelectQuestion,
} from "./prompter.js";

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

type Context = { input: NodeJS.ReadableStream; output: NodeJS.WritableStream };

export class InquirerPrompter implements Prompter {
  readonly interactive = true;
  #prompts: Promise<typeof Inquirer> | undefined;

  constructor(private readonly io: IO) {}

  confirm(q: ConfirmQuestion): Promise<boolean> {
    return this.#ask((p, ctx) =>
      p.confirm({ message: q.message, default: q.default, theme: this.#theme() }, ctx),
    );
  }

  select<T>(q: SelectQuestion<T>): Promise<T> {
    return this.#ask((p, ctx) =>
      p.select<T>(
        { message: q.message, choices: toChoices(q.choices), default: q.default, theme: this.#theme() },
        ctx,
      ),
    );
  }

  search<T>(q: SelectQuestion<T>): Promise<T> {
    const choices = toChoices(q.choices);
    const source = (term: string | undefined) => {
      const needle = (term ?? "").trim().toLowerCase();
      return needle === "" ? choices : choices.filter((c) => c.name.toLowerCase().includes(needle));
    };
    return this.#ask((p, ctx) => p.search<T>({ message: q.message, source, theme: this.#theme() }, ctx));
  }

  input(q: InputQuestion): Promise<string> {
    return this.#ask((p, ctx) =>
      p.input({ message: q.message, default: q.default, validate: q.validate, theme: this.#theme() }, ctx),
    );
  }

  checkbox<T>(q: CheckboxQuestion<T>): Promise<T[]> {
    return this.#ask((p, ctx) =>
      p.checkbox<T>(
        {
          message: q.message,
          choices: q.choices.map((c) => ({ ...toChoices([c])[0], checked: c.checked ?? false })) as {
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
    this.#prompts ??= import("@inquirer/prompts");
    const prompts = await this.#prompts;
    try {
      return await run(prompts, this.#context());
    } catch (error) {
      if (error instanceof Error && error.name === "ExitPromptError") {
        throw new InterruptedError("cancelled at the prompt", { cause: error });
      }
      throw error;
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

  // inquirer colours by what stdout supports; follow our stderr decision (and --no-color) instead.
  #theme() {
    const c: ColorScheme = this.io.errColors;
    return {
      prefix: { idle: c.accent("?"), done: c.ok("✔") },
      style: {
        answer: c.accent,
        message: (text: string) => c.bold(text),
        error: (text: string) => c.error(`> ${text}`),
        defaultAnswer: (text: string) => c.dim(`(${text})`),
        help: c.dim,
        highlight: c.accent,
        key: (text: string) => c.accent(c.bold(`<${text}>`)),
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

function toChoices<T>(choices: ReadonlyArray<Choice<T>>) {
  return choices.map((c) => ({ name: c.name, value: c.value, description: c.description }));
}
