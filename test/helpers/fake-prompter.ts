// A scripted Prompter: each question must match the next expectation, in order.
import { isDeepStrictEqual } from "node:util";
import type {
  CheckboxQuestion,
  ConfirmQuestion,
  InputQuestion,
  Prompter,
  SelectQuestion,
} from "../../src/io/prompter.js";

export type QuestionKind = "confirm" | "select" | "search" | "input" | "checkbox";

interface Expectation {
  kind: QuestionKind;
  message: RegExp | string;
  answer: unknown;
}

export interface AskedQuestion {
  kind: QuestionKind;
  message: string;
  flag: string;
  /** What a select, search or checkbox offered: the labels, in order. */
  choices?: string[];
}

export type ExpectationTuple = [kind: QuestionKind, message: RegExp | string, answer: unknown];

export class FakePrompter implements Prompter {
  readonly interactive = true;
  readonly asked: AskedQuestion[] = [];
  readonly #queue: Expectation[] = [];

  constructor(expectations: ExpectationTuple[] = []) {
    for (const [kind, message, answer] of expectations) this.#queue.push({ kind, message, answer });
  }

  /** Queue the next expected question; a string message must match exactly. */
  expect(kind: "confirm", message: RegExp | string, answer: boolean): this;
  expect(kind: "input", message: RegExp | string, answer: string): this;
  expect(kind: "select" | "search", message: RegExp | string, answer: unknown): this;
  expect(kind: "checkbox", message: RegExp | string, answer: unknown[]): this;
  expect(kind: QuestionKind, message: RegExp | string, answer: unknown): this {
    this.#queue.push({ kind, message, answer });
    return this;
  }

  /** Throws when expected questions were never asked. */
  assertDone(): void {
    if (this.#queue.length > 0) {
      const left = this.#queue.map((e) => `${e.kind} ${String(e.message)}`).join("; ");
      throw new Error(`FakePrompter: ${this.#queue.length} expected question(s) never asked: ${left}`);
    }
  }

  async confirm(q: ConfirmQuestion): Promise<boolean> {
    return this.#answer("confirm", q) as boolean;
  }
  async select<T>(q: SelectQuestion<T>): Promise<T> {
    return this.#choose("select", q);
  }
  async search<T>(q: SelectQuestion<T>): Promise<T> {
    return this.#choose("search", q);
  }
  async input(q: InputQuestion): Promise<string> {
    const answer = this.#answer("input", q) as string;
    const verdict = q.validate?.(answer) ?? true;
    if (verdict !== true)
      throw new Error(`FakePrompter: answer ${JSON.stringify(answer)} failed validation: ${verdict}`);
    return answer;
  }
  async checkbox<T>(q: CheckboxQuestion<T>): Promise<T[]> {
    const answer = this.#answer("checkbox", q) as unknown[];
    return answer.map((value) => this.#mustBeChoice(q, value));
  }

  #choose<T>(kind: QuestionKind, q: SelectQuestion<T>): T {
    return this.#mustBeChoice(q, this.#answer(kind, q));
  }

  // An answer the real prompt could not give would make the test pass for the wrong reason.
  // Compared deeply so tests can name object-valued choices; the choice's own value is returned.
  #mustBeChoice<T>(q: SelectQuestion<T> | CheckboxQuestion<T>, value: unknown): T {
    const choice = q.choices.find((c) => isDeepStrictEqual(c.value, value));
    if (!choice) {
      const offered = q.choices.map((c) => JSON.stringify(c.value)).join(", ");
      throw new Error(
        `FakePrompter: ${JSON.stringify(value)} is not among the choices of "${q.message}": ${offered}`,
      );
    }
    return choice.value;
  }

  #answer(
    kind: QuestionKind,
    q: { message: string; flag: string; choices?: ReadonlyArray<{ name: string }> },
  ): unknown {
    this.asked.push({
      kind,
      message: q.message,
      flag: q.flag,
      ...(q.choices ? { choices: q.choices.map((c) => c.name) } : {}),
    });
    const next = this.#queue.shift();
    if (!next) throw new Error(`FakePrompter: unexpected ${kind} question "${q.message}"`);
    const matches =
      typeof next.message === "string" ? next.message === q.message : next.message.test(q.message);
    if (next.kind !== kind || !matches) {
      throw new Error(
        `FakePrompter: expected ${next.kind} ${String(next.message)} but was asked ${kind} "${q.message}"`,
      );
    }
    return next.answer;
  }
}
