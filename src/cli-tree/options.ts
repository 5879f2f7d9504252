// The parsed flags of each command, as the command tree (tree.ts) hands them to the command's
// action: a module of its own, so that the tree and the commands both import it and neither
// imports the other (the tree loads each command with import() when it runs). tree.ts checks at
// compile time that these are exactly the types commander infers from its flag definitions.

/** `--dry-run[=MODE]`: none (no dry run), client (nothing sent that could change anything), server (the API server's dry run). */
export type DryRunMode = "none" | "client" | "server";

export interface MigrateOptions {
  targetNode?: string | undefined;
  nodeSelector?: string | undefined;
  addedNodeSelector?: string | undefined;
  dryRun: DryRunMode;
  force: boolean;
  wait: boolean;
  timeout: string;
  prometheusUrl?: string | undefined;
}

export interface WatchOptions {
  allNamespaces: boolean;
  selector?: string | undefined;
  node?: string | undefined;
  exitOnDone: boolean;
  pick: boolean;
  headers: boolean;
  timeout: string;
  prometheusUrl?: string | undefined;
}

export interface CancelOptions {
  yes: boolean;
  dryRun: DryRunMode;
  wait: boolean;
  timeout: string;
}

export interface RestartOptions {
  yes: boolean;
  force: boolean;
  gracePeriod: number;
  dryRun: DryRunMode;
  wait: boolean;
  timeout: string;
}

export interface EvacuateOptions {
  dryRun: DryRunMode;
  yes: boolean;
  force: boolean;
  restart: boolean;
  cancel: boolean;
  timeout: string;
}

/** The defaults of `outdated` that the command it suggests to run again leaves out. */
export const outdatedDefaults = { concurrency: "2", timeout: "15m" } as const;

export interface OutdatedOptions {
  allNamespaces: boolean;
  selector?: string | undefined;
  check: boolean;
  migrate: boolean;
  restart: boolean;
  yes: boolean;
  concurrency: string;
  maxFailures?: string | undefined;
  timeout: string;
  headers: boolean;
}

export interface HistoryOptions {
  allNamespaces: boolean;
  selector?: string | undefined;
  node?: string | undefined;
  since: string;
  limit?: string | undefined;
  prometheusUrl?: string | undefined;
}

export interface DiagnoseCliOptions {
  from?: string | undefined;
  dump?: string | undefined;
  only?: string[] | undefined;
  skip?: string[] | undefined;
  failOn: "error" | "warning" | "never";
}

export interface SimCliOptions {
  scenario: string;
  port: number;
  kubeconfigOut?: string | undefined;
  force: boolean;
  speed: number;
  seed?: number | undefined;
  vms?: number | undefined;
  fault?: string[] | undefined;
  requestLog?: string | undefined;
  listScenarios: boolean;
}
