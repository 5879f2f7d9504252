// A whole simulated cluster in one call: clock, store, seed data, CA and serving certificate,
// users, and the HTTPS API server on 127.0.0.1, plus the kubeconfig that reaches it.

import { stringify } from "yaml";
import {
  type ApiFaultControl,
  type ApiFaultSpec,
  ApiFaults,
  parseApiFaults,
  validateApiFaults,
} from "./api-faults.js";
import { createUsers, newUser, type SimUser } from "./auth.js";
import { str } from "./controllers/fields.js";
import { type ControllerRuntime, type FaultSpec, installControllers } from "./controllers/index.js";
import { R } from "./controllers/runtime.js";
import { largeSeedObjects, settleLargeHeap } from "./heap.js";
import { LogStore } from "./logs.js";
import { guestDirtyRateSeries } from "./objects/guest-metrics.js";
import { currentMigrationSeries } from "./objects/migration-metrics.js";
import { createPki, type Pki } from "./pki.js";
import { type SimPrometheus, startPrometheus } from "./prometheus.js";
import { Random } from "./random.js";
import { installRbac } from "./rbac-policy.js";
import { simResources, storageOfKind } from "./registry.js";
import { listScenarios, loadScenario } from "./scenario.js";
import type { SeedData } from "./seed.js";
import { type KubevirtActions, type SimRequestRecord, SimServer } from "./server.js";
import { type SimObject, Store } from "./store.js";
import { ManualSimTime, RealtimeSimTime, type SimTime } from "./time.js";

export type { SimRequestRecord } from "./server.js";

export const simKubernetesVersion = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.3",
  gitCommit: "32cc146f75aad04beaaa245a7157eb35063a9f99",
  gitTreeState: "clean",
  buildDate: "2025-03-11T19:52:21Z",
  goVersion: "go1.23.6",
  compiler: "gc",
  platform: "linux/amd64",
};

export const simKubevirtVersion = {
  gitVersion: "v1.9.0",
  gitCommit: "79d34c1762169e5b0370ec491cef5ca12e6b504c",
  gitTreeState: "clean",
  buildDate: "2026-07-29T10:12:41Z",
  goVersion: "go1.24.9",
  compiler: "gc",
  platform: "linux/amd64",
};

/** The scenarios' names, `default` first. */
export function scenarioNames(): string[] {
  return listScenarios().map((s) => s.name);
}

export interface SimClusterOptions {
  /** 0 (the default) picks any free port. */
  port?: number | undefined;
  seed?: number | undefined;
  /** Simulated seconds per wall second. */
  speed?: number | undefined;
  scenario?: string | undefined;
  /** How many changes a watch can resume across (default 10,000). */
  historyLimit?: number | undefined;
  bookmarkIntervalMs?: number | undefined;
  /** The `scale` scenario's number of VMs. */
  vms?: number | undefined;
  /** Replaces virt-api's handlers (tests of the API server alone). */
  kubevirtActions?: KubevirtActions | undefined;
  /** False: the API server alone, without KubeVirt's webhooks and controllers (its own tests). */
  controllers?: boolean | undefined;
  /** Simulated time that moves only when the caller advances it (tests). */
  manualTime?: boolean | undefined;
  /** Also serve Prometheus's query API with virt-handler's migration gauges, on its own port. */
  prometheus?: boolean | undefined;
  /** Faults for future migrations, beyond the scenario's. */
  faults?: readonly FaultSpec[] | undefined;
  /**
   * Faults of the API server itself (dropped watches, outages, 429/5xx, latency, expiring
   * resourceVersions, slow or truncated logs): a spec as `kvmig sim --fault` takes it, or
   * objects. See api-faults.ts. Changed at run time through `SimCluster.faults`.
   */
  apiFaults?: string | readonly ApiFaultSpec[] | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface SimCluster {
  readonly url: string;
  readonly port: number;
  readonly seed: number;
  readonly pki: Pki;
  readonly users: readonly SimUser[];
  readonly store: Store;
  readonly logs: LogStore;
  readonly time: SimTime;
  /** The controllers' work queue: `settle()` waits until they are idle (tests on manual time). */
  readonly controllers: ControllerRuntime;
  /**
   * A kubeconfig with contexts `sim-admin` (current), `sim-viewer` and one per added user (each
   * named after its user), namespace `demo`.
   */
  kubeconfig(): string;
  token(user: "sim-admin" | "sim-viewer" | (string & {})): string;
  /**
   * A new user with a bearer token, in `groups` and system:authenticated, and no permissions but
   * those every authenticated user has until RBAC grants more (create roles and bindings as
   * sim-admin). `context` names its context in `kubeconfig()`.
   */
  addUser(name: string, groups?: readonly string[]): SimUser & { context: string };
  /** With `prometheus: true`: the plain-HTTP Prometheus API (for --prometheus-url). */
  readonly prometheus?: SimPrometheus | undefined;
  /** The API faults (not the migration faults of `options.faults`): set, clear, outage, stats. */
  readonly faults: ApiFaultControl;
  /**
   * Faults for the migrations from now on, beside `options.faults` (e.g. a node's virt-handler
   * going away: `{ type: "connectionDrop", node, atProgress: 0 }`); returns their removal.
   */
  addMigrationFaults(specs: readonly FaultSpec[]): () => void;
  /**
   * Calls `listener` with each request the API server handled, as it ends (the record
   * `kvmig sim --request-log` writes); returns the unsubscribe.
   */
  onRequest(listener: (record: SimRequestRecord) => void): () => void;
  close(): Promise<void>;
}

export function loadSeed(store: Store, logs: LogStore, data: SeedData): void {
  for (const object of data.objects) {
    const meta = (object as SimObject).metadata;
    const storage = storageOfKind(String(object.apiVersion), String(object.kind));
    const res = simResources.find((r) => r.storage === storage);
    if (!res) throw new Error(`no resource for ${storage}`);
    if (!meta) throw new Error("seed object without metadata");
    store.load(res, object as SimObject);
  }
  for (const log of data.logs) {
    for (const line of log.lines) logs.append(log.namespace, log.pod, log.container, line);
  }
}

export async function startSimCluster(options: SimClusterOptions = {}): Promise<SimCluster> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  // A bad fault spec throws here, before anything runs.
  const apiFaultSpecs =
    typeof options.apiFaults === "string"
      ? parseApiFaults(options.apiFaults)
      : validateApiFaults(options.apiFaults ?? []);
  const start = Date.now();
  const scenario = loadScenario(options.scenario ?? "default", { seed, now: start, vms: options.vms });
  const time: SimTime = options.manualTime
    ? new ManualSimTime(start)
    : new RealtimeSimTime(start, options.speed ?? 1);
  const random = new Random(seed);
  const store = new Store({ now: () => time.now(), random, historyLimit: options.historyLimit });
  const logs = new LogStore();
  loadSeed(store, logs, scenario.data);
  const stopRbac = installRbac(store);
  const controllers = installControllers({
    enabled: options.controllers !== false,
    store,
    logs,
    time,
    random: random.derive("controllers"),
    faults: [...scenario.faults, ...(options.faults ?? [])],
    log: options.log,
  });
  const apiFaults = new ApiFaults({
    random: random.derive("api-faults"),
    log: options.log,
    specs: apiFaultSpecs,
  });
  store.setExpiry({
    floor: (newest) => apiFaults.expiryFloor(newest),
    expired: (rv, floor) => apiFaults.expired(rv, floor),
  });
  if (scenario.data.objects.length >= largeSeedObjects) settleLargeHeap();
  const [pki] = await Promise.all([createPki()]);
  const users = createUsers();
  const server = new SimServer({
    store,
    logs,
    users,
    pki,
    now: () => time.now(),
    port: options.port,
    serverVersion: simKubernetesVersion,
    kubevirtVersion: simKubevirtVersion,
    kubevirtActions: options.kubevirtActions ?? controllers.actions,
    evictionWebhook: controllers.evictionWebhook,
    watch:
      options.bookmarkIntervalMs === undefined
        ? undefined
        : { bookmarkIntervalMs: options.bookmarkIntervalMs },
    log: options.log,
    faults: apiFaults,
    absentGroups: new Set(scenario.data.absentGroups ?? []),
  });
  try {
    await server.listen();
  } catch (error) {
    // The controllers' timers (the handler's heartbeat, queued work) would keep the process alive.
    controllers.stop();
    if (time instanceof RealtimeSimTime) time.stop();
    throw error;
  }
  apiFaults.attach(server);
  const prometheus = options.prometheus
    ? await startPrometheus(
        () => controllers.migrationStats(),
        () => time.now(),
        () => [
          ...(scenario.data.metrics ?? []),
          ...currentMigrationSeries(store.list(R.vmim.storage), store.list(R.vmi.storage), time.now()),
          ...guestDirtyRateSeries(
            store.list(R.vmi.storage),
            str(store.list(R.kubevirt.storage)[0], "status", "observedKubeVirtVersion"),
            time.now(),
          ),
        ],
      ).catch(async (error: unknown) => {
        controllers.stop();
        if (time instanceof RealtimeSimTime) time.stop();
        apiFaults.stop();
        await server.close();
        throw error;
      })
    : undefined;
  const token = (name: string) => {
    const user = users.find((u) => u.name === name);
    if (!user) throw new Error(`no user ${name}`);
    return user.token;
  };
  return {
    url: server.url,
    port: server.port,
    seed,
    pki,
    users,
    store,
    logs,
    time,
    controllers: controllers.runtime,
    token,
    addUser: (name, groups = []) => {
      if (users.some((u) => u.name === name))
        throw new Error(`the simulated cluster already has a user ${name}`);
      const user = newUser(name, groups);
      users.push(user);
      return { ...user, context: user.name };
    },
    kubeconfig: () => simKubeconfig(server.url, pki.caPem, users),
    prometheus,
    faults: apiFaults,
    addMigrationFaults: (specs) => controllers.runtime.faults.add(specs),
    onRequest: (listener) => server.onRequest(listener),
    close: async () => {
      stopRbac();
      apiFaults.stop();
      controllers.stop();
      if (time instanceof RealtimeSimTime) time.stop();
      await Promise.all([server.close(), prometheus?.close()]);
    },
  };
}

export function simKubeconfig(server: string, caPem: string, users: readonly SimUser[]): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "kvmig-sim",
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: users.map((user) => ({ name: user.name, user: { token: user.token } })),
    contexts: users.map((user) => ({
      name: user.name,
      context: { cluster: "kvmig-sim", user: user.name, namespace: "demo" },
    })),
    "current-context": users[0]?.name ?? "sim-admin",
    preferences: {},
  });
}
