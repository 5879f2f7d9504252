// The domain verbs kvmig uses to talk to a cluster. Commands depend on this interface only;
// the implementation (client.ts, over connect.ts) is loaded on first use.

import type { ApiOutage } from "./outage.js";
import type { ResourceName } from "./resources.js";
import type {
  Deployment,
  Event,
  KubeVirt,
  KubeVirtVersionInfo,
  MigrateOptions,
  MigrationPolicy,
  Namespace,
  NetworkAttachmentDefinition,
  Node,
  NodeNetworkState,
  Pod,
  RestartOptions,
  ServerVersion,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from "./types.js";

export interface ObjectTypes {
  vm: VirtualMachine;
  vmi: VirtualMachineInstance;
  vmim: VirtualMachineInstanceMigration;
  kubevirt: KubeVirt;
  migrationPolicy: MigrationPolicy;
  nad: NetworkAttachmentDefinition;
  nns: NodeNetworkState;
  pod: Pod;
  event: Event;
  node: Node;
  namespace: Namespace;
  deployment: Deployment;
}

export type ObjectOf<R extends ResourceName> = ObjectTypes[R];

export interface ListOptions {
  /** Omit for all namespaces (or for cluster-scoped resources). */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Page size for `limit`/`continue`; default 500. */
  pageSize?: number | undefined;
  /**
   * Only each object's metadata is needed (names for completion): the API server is asked for a
   * PartialObjectMetadataList, and the objects may then carry nothing but their metadata.
   */
  metadataOnly?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** A piece of a page of a list (listStream). */
export interface ListPiece<T> {
  objects: T[];
  /** The page is complete with this piece. */
  pageEnd: boolean;
}

export interface WatchOptions extends ListOptions {
  /** Ends the watch; nothing else does but an error no wait can fix (a watch rides out outages). */
  signal: AbortSignal;
  /** Where the watch tells an API server outage it is riding out (outage.ts). */
  outage?: ApiOutage | undefined;
}

/** What a list-then-watch yields: changes, plus one SYNCED once the initial list is delivered. */
export type WatchUpdate<T> =
  | { type: "ADDED" | "MODIFIED" | "DELETED"; object: T }
  | { type: "SYNCED"; resourceVersion: string };

export interface DryRunOption {
  dryRun?: boolean | undefined;
}

export interface DeleteMigrationOptions extends DryRunOption {
  /** Delete only if the object still has this uid (a replaced migration is left alone). */
  uid?: string | undefined;
}

export interface LogOptions {
  container: string;
  tailLines?: number | undefined;
  sinceSeconds?: number | undefined;
  timestamps?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

export interface AccessResult {
  allowed: boolean;
  reason?: string | undefined;
}

export interface KubeClient {
  /** The server URL and context name, for messages. */
  readonly server: string;
  readonly context: string;
  /** `-n`, else the context's namespace, else `default`. */
  readonly namespace: string;

  /** `GET /version` of the Kubernetes API server. */
  serverVersion(): Promise<ServerVersion>;
  /** `GET /apis/subresources.kubevirt.io/v1/version` (virt-api). */
  kubevirtVersion(): Promise<KubeVirtVersionInfo>;

  get<R extends ResourceName>(resource: R, name: string, namespace?: string): Promise<ObjectOf<R>>;
  /** Reads every page and returns all items. */
  list<R extends ResourceName>(resource: R, options?: ListOptions): Promise<ObjectOf<R>[]>;
  /** Reads page by page (`limit`/`continue`), so memory stays flat on big lists. */
  listPages<R extends ResourceName>(resource: R, options?: ListOptions): AsyncIterable<ObjectOf<R>[]>;
  /**
   * The same pages, each handed on in pieces as it arrives (its objects parsed one by one): no
   * page is ever held whole, so memory stays the same however long the list. `pageEnd` marks a
   * page's last piece.
   */
  listStream<R extends ResourceName>(
    resource: R,
    options?: ListOptions,
  ): AsyncIterable<ListPiece<ObjectOf<R>>>;
  /**
   * List, then watch from the list's resourceVersion: resumes after a dropped stream,
   * re-lists on 410 Gone, never loses or repeats a change, rides out an API server that is
   * away (no retry budget: a follow), ends when the signal aborts.
   */
  watch<R extends ResourceName>(resource: R, options: WatchOptions): AsyncIterable<WatchUpdate<ObjectOf<R>>>;

  /** The KubeVirt CR, wherever it lives (usually namespace `kubevirt`). */
  findKubeVirt(): Promise<KubeVirt | undefined>;
  /** The virt-controller Deployment next to the KubeVirt CR; its `--launcher-image` is the current launcher. */
  findVirtController(kubevirtNamespace: string): Promise<Deployment | undefined>;

  createMigration(
    namespace: string,
    migration: VirtualMachineInstanceMigration,
    options?: DryRunOption,
  ): Promise<VirtualMachineInstanceMigration>;
  deleteMigration(namespace: string, name: string, options?: DeleteMigrationOptions): Promise<void>;
  /** `PUT .../virtualmachines/{name}/migrate`; the server does not say which VMIM it created. */
  migrate(namespace: string, vmName: string, options?: MigrateOptions): Promise<void>;
  /** `PUT .../virtualmachines/{name}/restart`. */
  restart(namespace: string, vmName: string, options?: RestartOptions): Promise<void>;

  /**
   * Cordons (`spec.unschedulable: true`) or uncordons (removes it) a node with one merge patch;
   * `annotations` are set in the same patch (a null value removes one). Returns the node as the
   * server answers.
   */
  setNodeUnschedulable(
    node: string,
    unschedulable: boolean,
    options?: DryRunOption & { annotations?: Record<string, string | null> },
  ): Promise<Node>;
  /**
   * `POST /api/v1/namespaces/{ns}/pods/{pod}/eviction` (policy/v1 Eviction). Resolves when the pod
   * may go (201/200). Refused (429: KubeVirt's eviction webhook, a PodDisruptionBudget) rejects
   * with an ApiError whose status is 429 and whose message is the server's message, unchanged
   * (an EvictionRefusedError, never sent again: the caller decides when to ask again).
   */
  evictPod(namespace: string, pod: string, options?: DryRunOption): Promise<void>;
  /**
   * `PUT /apis/subresources.kubevirt.io/v1/namespaces/{ns}/virtualmachineinstances/{vmi}/evacuate/cancel`
   * with `{"evacuationNodeName": node}` (KubeVirt v1.7+; an older virt-api answers 404, which
   * rejects with an error that says so and how to clear the VMI's status.evacuationNodeName).
   */
  evacuateCancel(
    namespace: string,
    vmi: string,
    evacuationNodeName: string,
    options?: DryRunOption,
  ): Promise<void>;

  podLogs(namespace: string, pod: string, options: LogOptions): Promise<string>;
  /** Follows a container log line by line until the signal aborts or the container ends. */
  followPodLogs(
    namespace: string,
    pod: string,
    options: LogOptions & { signal: AbortSignal },
  ): AsyncIterable<string>;

  /** SelfSubjectAccessReview: may the current user do this? */
  canI(check: AccessCheck): Promise<AccessResult>;

  /** Releases connections so the process can exit. */
  close(): void;
}

/**
 * The cluster a command acts on, as confirmations and headers name it: `context prod
 * (https://10.0.0.1:6443)`, so that nobody confirms a change on the wrong cluster.
 */
export function clusterName(kube: Pick<KubeClient, "context" | "server">): string {
  return `context ${kube.context} (${kube.server})`;
}
