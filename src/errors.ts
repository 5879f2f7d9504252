// Every failure kvmig reports is a KvmigError: a class that says whose fault it was, a one-line
// message, a hint saying what to do, and an exit code. The exit codes live in this one table
// (the product spec's), and only cli.ts turns an error into a process exit code.

export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  operationFailed: 3,
  unauthorized: 4,
  notFound: 5,
  timedOut: 6,
  problemsFound: 7,
  refused: 8,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table as the README and `kvmig help exit-codes` show it. */
export const exitCodeTable: ReadonlyArray<{ code: ExitCode; meaning: string }> = [
  { code: 0, meaning: "success (also: nothing to cancel, nothing outdated)" },
  { code: 1, meaning: "unexpected error" },
  { code: 2, meaning: "usage error (bad flag or argument, missing answer without a terminal)" },
  {
    code: 3,
    meaning: "the migration (or restart, or abort) ended in failure, or KubeVirt refused to start it",
  },
  { code: 4, meaning: "not authorized (401/403), with the missing permission named" },
  { code: 5, meaning: "not found (VM, VMI, namespace, migration)" },
  { code: 6, meaning: "timed out waiting (the operation itself goes on)" },
  { code: 7, meaning: "diagnose found problems at or above --fail-on" },
  { code: 8, meaning: "refused by a pre-flight check; nothing was changed (--force overrides where it can)" },
  { code: 130, meaning: "interrupted, or a confirmation was declined" },
];

export interface ErrorDetails {
  hint?: string | undefined;
  cause?: unknown;
}

export class KvmigError extends Error {
  readonly exitCode: ExitCode = ExitCode.unexpected;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.hint = details.hint;
  }
}

/** Bad flag, bad argument, or an answer that only a terminal could give. */
export class UsageError extends KvmigError {
  override readonly exitCode = ExitCode.usage;
}

/** kvmig cannot find or read its configuration (kubeconfig, context). */
export class ConfigError extends KvmigError {}

/** The API server could not be reached: refused, DNS, TLS, reset. */
export class ConnectionError extends KvmigError {}

/** The server answered, but not as a Kubernetes API server does (a web page, not JSON). */
export class NotKubernetesError extends KvmigError {}

/** The cluster does not serve KubeVirt's API (not installed, or the wrong cluster). */
export class KubeVirtMissingError extends KvmigError {}

export class UnauthorizedError extends KvmigError {
  override readonly exitCode = ExitCode.unauthorized;
}

export class NotFoundError extends KvmigError {
  override readonly exitCode = ExitCode.notFound;
}

/** A wait ran out of time; what was waited for goes on. */
export class TimeoutError extends KvmigError {
  override readonly exitCode = ExitCode.timedOut;
}

/**
 * A pre-flight check said no, so nothing was asked of the cluster: not the same as a migration
 * that ran and failed (exit 3), and a script may want to tell them apart.
 */
export class PreflightRefusedError extends KvmigError {
  override readonly exitCode = ExitCode.refused;
}

/** The operation ran and ended in failure (migration failed, abort failed, restart failed). */
export class OperationFailedError extends KvmigError {
  override readonly exitCode = ExitCode.operationFailed;
}

export class ProblemsFoundError extends KvmigError {
  override readonly exitCode = ExitCode.problemsFound;
}

/** Ctrl-C, or a confirmation the user declined. */
export class InterruptedError extends KvmigError {
  override readonly exitCode = ExitCode.interrupted;
}

/** An error the API server answered with; keeps the server's Status. */
export class ApiError extends KvmigError {
  override readonly exitCode: ExitCode;
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string | undefined,
    exitCode: ExitCode,
    details: ErrorDetails = {},
  ) {
    super(message, details);
    this.exitCode = exitCode;
  }
}

export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof KvmigError ? error.exitCode : ExitCode.unexpected;
}

/** One line: the message, without stack, never empty. */
export function describeError(error: unknown): { message: string; hint: string | undefined } {
  if (error instanceof KvmigError) return { message: firstLine(error.message), hint: error.hint };
  if (error instanceof Error) {
    return {
      message: firstLine(error.message) || error.name,
      hint: "this is a bug in kvmig; run again with -v for the stack trace and report it",
    };
  }
  return { message: String(error), hint: undefined };
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "");
  return (line ?? "").trim();
}
