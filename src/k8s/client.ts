// KubeClient over the Transport: resource paths from the descriptors, paging, list-then-watch.

import type { Clock } from "../clock.js";
import { isNotFound } from "./api-errors.js";
import type {
  AccessCheck,
  AccessResult,
  DeleteMigrationOptions,
  DryRunOption,
  KubeClient,
  ListOptions,
  LogOptions,
  ObjectOf,
  WatchOptions,
  WatchUpdate,
} from "./kube-client.js";
import type { KubeList } from "./meta.js";
import {
  type ResourceName,
  resourcePath,
  resources,
  subresourceGroup,
  subresourceVersion,
} from "./resources.js";
import type { Transport } from "./transport.js";
import type {
  Deployment,
  KubeVirt,
  KubeVirtVersionInfo,
  MigrateOptions,
  RestartOptions,
  SelfSubjectAccessReview,
  ServerVersion,
  VirtualMachineInstanceMigration,
} from "./types.js";
import { listThenWatch } from "./watch.js";

export const defaultPageSize = 500;
/** The server closes a watch after this long; the loop then resumes from where it was. */
const watchTimeoutSeconds = 300;

export interface ClientSettings {
  namespace: string;
  clock: Clock;
  log?: ((line: string) => void) | undefined;
}

function dryRunQuery(options: DryRunOption | undefined): Record<string, string | undefined> {
  return { dryRun: options?.dryRun ? "All" : undefined };
}

function subresourcePath(namespace: string, vmName: string, action: string): string {
  return `/apis/${subresourceGroup}/${subresourceVersion}/namespaces/${encodeURIComponent(namespace)}/virtualmachines/${encodeURIComponent(vmName)}/${action}`;
}

export class HttpKubeClient implements KubeClient {
  readonly namespace: string;

  constructor(
    private readonly transport: Transport,
    private readonly settings: ClientSettings,
  ) {
    this.namespace = settings.namespace;
  }

  get server(): string {
    return this.transport.server;
  }

  get context(): string {
    return this.transport.context;
  }

  serverVersion(): Promise<ServerVersion> {
    return this.transport.request<ServerVersion>({ method: "GET", path: "/version" });
  }

  kubevirtVersion(): Promise<KubeVirtVersionInfo> {
    return this.transport.request<KubeVirtVersionInfo>({
      method: "GET",
      path: `/apis/${subresourceGroup}/${subresourceVersion}/version`,
    });
  }

  get<R extends ResourceName>(resource: R, name: string, namespace?: string): Promise<ObjectOf<R>> {
    const descriptor = resources[resource];
    const ns = descriptor.namespaced ? (namespace ?? this.namespace) : undefined;
    return this.transport.request<ObjectOf<R>>({ method: "GET", path: resourcePath(descriptor, ns, name) });
  }

  async list<R extends ResourceName>(resource: R, options: ListOptions = {}): Promise<ObjectOf<R>[]> {
    const all: ObjectOf<R>[] = [];
    for await (const page of this.listPages(resource, options)) all.push(...page);
    return all;
  }

  async *listPages<R extends ResourceName>(
    resource: R,
    options: ListOptions = {},
  ): AsyncGenerator<ObjectOf<R>[]> {
    let token: string | undefined;
    do {
      const page = await this.listPage(resource, options, token);
      yield page.items;
      token = page.metadata.continue || undefined;
    } while (token !== undefined);
  }

  watch<R extends ResourceName>(resource: R, options: WatchOptions): AsyncIterable<WatchUpdate<ObjectOf<R>>> {
    const descriptor = resources[resource];
    const path = resourcePath(descriptor, options.namespace);
    return listThenWatch<ObjectOf<R>>(
      {
        listPage: (token) => this.listPage(resource, options, token),
        openWatch: (resourceVersion) =>
          this.transport.stream({
            method: "GET",
            path,
            query: {
              watch: 1,
              resourceVersion,
              allowWatchBookmarks: true,
              timeoutSeconds: watchTimeoutSeconds,
              labelSelector: options.labelSelector,
              fieldSelector: options.fieldSelector,
            },
            signal: options.signal,
          }),
      },
      {
        signal: options.signal,
        clock: this.settings.clock,
        log: this.settings.log,
        what: `${descriptor.plural}${options.namespace === undefined ? "" : ` in ${options.namespace}`}`,
      },
    );
  }

  async findKubeVirt(): Promise<KubeVirt | undefined> {
    const all = await this.list("kubevirt");
    // More than one CR is an unsupported installation; KubeVirt itself uses the oldest.
    return all.sort((a, b) =>
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""),
    )[0];
  }

  async findVirtController(kubevirtNamespace: string): Promise<Deployment | undefined> {
    try {
      return await this.get("deployment", "virt-controller", kubevirtNamespace);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  createMigration(
    namespace: string,
    migration: VirtualMachineInstanceMigration,
    options?: DryRunOption,
  ): Promise<VirtualMachineInstanceMigration> {
    return this.transport.request<VirtualMachineInstanceMigration>({
      method: "POST",
      path: resourcePath(resources.vmim, namespace),
      query: dryRunQuery(options),
      body: { apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstanceMigration", ...migration },
    });
  }

  async deleteMigration(
    namespace: string,
    name: string,
    options: DeleteMigrationOptions = {},
  ): Promise<void> {
    await this.transport.request({
      method: "DELETE",
      path: resourcePath(resources.vmim, namespace, name),
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        ...(options.dryRun ? { dryRun: ["All"] } : {}),
      },
    });
  }

  async migrate(namespace: string, vmName: string, options: MigrateOptions = {}): Promise<void> {
    await this.transport.requestText({
      method: "PUT",
      path: subresourcePath(namespace, vmName, "migrate"),
      body: options,
    });
  }

  async restart(namespace: string, vmName: string, options: RestartOptions = {}): Promise<void> {
    await this.transport.requestText({
      method: "PUT",
      path: subresourcePath(namespace, vmName, "restart"),
      body: options,
    });
  }

  podLogs(namespace: string, pod: string, options: LogOptions): Promise<string> {
    return this.transport.requestText({
      method: "GET",
      path: `${resourcePath(resources.pod, namespace, pod)}/log`,
      query: logQuery(options, false),
      signal: options.signal,
    });
  }

  async *followPodLogs(
    namespace: string,
    pod: string,
    options: LogOptions & { signal: AbortSignal },
  ): AsyncGenerator<string> {
    const stream = await this.transport.stream({
      method: "GET",
      path: `${resourcePath(resources.pod, namespace, pod)}/log`,
      query: logQuery(options, true),
      signal: options.signal,
    });
    try {
      yield* stream;
    } finally {
      stream.close();
    }
  }

  async canI(check: AccessCheck): Promise<AccessResult> {
    const review = await this.transport.request<SelfSubjectAccessReview>({
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { ...check } },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason };
  }

  close(): void {
    this.transport.close();
  }

  private listPage<R extends ResourceName>(
    resource: R,
    options: ListOptions,
    token: string | undefined,
  ): Promise<KubeList<ObjectOf<R>>> {
    const descriptor = resources[resource];
    return this.transport.request<KubeList<ObjectOf<R>>>({
      method: "GET",
      path: resourcePath(descriptor, options.namespace),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.pageSize ?? defaultPageSize,
        continue: token,
      },
      signal: options.signal,
    });
  }
}

function logQuery(
  options: LogOptions,
  follow: boolean,
): Record<string, string | number | boolean | undefined> {
  return {
    container: options.container,
    tailLines: options.tailLines,
    sinceSeconds: options.sinceSeconds,
    timestamps: options.timestamps ? true : undefined,
    follow: follow ? true : undefined,
  };
}
