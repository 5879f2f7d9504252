// Prompts. Every question has a flag that answers it; without a terminal the question
// becomes a usage error naming that flag.

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
  /** Checkbox prompts: selected at the start. */
  checked?: boolean;
}

export interface ConfirmQuestion {
  message: string;
  /** The flag that answers this question in a script, e.g. "--yes". */
  flag: string;
  default?: boolean;
}

export interface SelectQuestion<T> {
  message: string;
  flag: string;
  choices: ReadonlyArray<Choice<T>>;
  /** The value the cursor starts on (the safest answer); the first choice when not given. */
  default?: T;
}

export interface InputQuestion {
  message: string;
  flag: string;
  default?: string;
  validate?: (value: string) => true | string;
}

export interface CheckboxQuestion<T> {
  message: string;
  flag: string;
  choices: ReadonlyArray<Choice<T>>;
}

export interface Prompter {
  readonly interactive: boolean;
  confirm(question: ConfirmQuestion): Promise<boolean>;
  select<T>(question: SelectQuestion<T>): Promise<T>;
  /** A select with type-to-filter, for long lists such as VM names. */
  search<T>(question: SelectQuestion<T>): Promise<T>;
  input(question: InputQuestion): Promise<string>;
  checkbox<T>(question: CheckboxQuestion<T>): Promise<T[]>;
}
