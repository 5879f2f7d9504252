// The shells `kvmig completion SHELL` has a script for; apart from the scripts (scripts.ts), so
// that the command's definition does not load them.

export const shells = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof shells)[number];
