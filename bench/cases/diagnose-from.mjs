// `kvmig diagnose --from` on a must-gather of about 1 GB (issue 19, item 10): wall time and peak
// RSS. The tree is written at bench time into the bench's temporary directory and removed after
// the case. Its story is the not-converging fixture (test/fixtures/diagnose/not-converging/
// v1.9-aborted-dirty-rate-above-bandwidth), laid out as must-gather does and buried in bulk:
//   - the source launcher's log: 420 MiB of older lines (every 8th a progress line of an earlier
//     migration), then the fixture's log, whose abort line must still be found at the end;
//   - the target launcher's log (100 MiB), two virt-handler logs (160 MiB each) and 100 logs of
//     other VMs' launchers (1 MiB each), which diagnose never needs to keep;
//   - 300 other VMs, each with its VM, VMI, launcher pod and events (kubectl-style YAML), and
//     12 MiB of their events saved with -o json into a .yaml file;
//   - the VM's launcher pod only in a 30 MiB `kubectl get pods -A -o yaml` (a List of 3,000 pods,
//     300 of them other VMs' launchers), and the VM's event only among 12 MiB of events in one
//     multi-document YAML file: both must be read for the diagnosis to come out the same;
//   - one 50 MiB ConfigMap list written as JSON on a single line in a .yaml file, which diagnose
//     skips with a note rather than parse (one line is one object over the limit).
import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { comparePair } from "../lib/pair.mjs";
import { metText, mib, ms, runsText, target } from "../lib/report.mjs";

export const id = "diagnose-from";
export const title = "Diagnosing from a large must-gather";

const fixture = "test/fixtures/diagnose/not-converging/v1.9-aborted-dirty-rate-above-bandwidth";
const sourcePod = "virt-launcher-busy-db-4hx7k";
const targetPod = "virt-launcher-busy-db-q2m9s";
const MiB = 1024 * 1024;

export async function run(ctx) {
  const runs = ctx.quick ? 1 : Math.min(ctx.runs, 3);
  const root = join(ctx.tmp, "must-gather");
  const started = Date.now();
  // --quick (and the test of the bench itself) writes the big logs, pods.yaml and the events at a
  // sixteenth of their size; the one-line file stays over the manifest limit, so every path still
  // runs.
  const bytes = writeTree(join(ctx.root, fixture), root, ctx.quick ? 1 / 16 : 1);
  ctx.log(`diagnose-from: wrote ${mib(bytes / 1024)} in ${ms(Date.now() - started)}`);
  const reference = spawnSync(
    process.execPath,
    [ctx.distEntry, "diagnose", "busy-db", "--from", join(ctx.root, fixture)],
    { encoding: "utf8" },
  ).stdout;
  try {
    const result = await comparePair(ctx, {
      id: "diagnose-from",
      label: `must-gather of ${mib(bytes / 1024)}`,
      // Exit 7: the not-converging finding is an error, at or above --fail-on.
      kvmig: {
        args: ["diagnose", "busy-db", "--from", root],
        ok: [7],
        check: (file) => checkOutput(file, reference),
      },
      runs,
    });
    result.kvmig.command = "kvmig diagnose busy-db --from MUST-GATHER";
    result.treeBytes = bytes;
    result.targets = [
      target("diagnose-from-rss", "peak RSS < 200 MiB", result.kvmig.maxRssKiB, 200 * 1024, {
        strict: true,
        show: mib,
      }),
    ];
    const k = result.kvmig;
    const table = {
      title: "diagnose --from a must-gather tree (written at bench time)",
      headers: ["Case", "tree", "wall", "read", "CPU", "peak RSS", "Target", "Met"],
      rows: [
        [
          `\`${k.command}\``,
          mib(bytes / 1024),
          ms(k.wallMs),
          typeof k.wallMs === "number" ? `${mib(bytes / 1024 / (k.wallMs / 1000))}/s` : "–",
          ms(k.cpuMs),
          mib(k.maxRssKiB),
          result.targets.map((t) => `${t.text}: ${t.shown}`).join("; "),
          result.targets.map(metText).join("; "),
        ],
      ],
    };
    return {
      cases: [result],
      tables: [table],
      note: `${runsText(ctx, runs)}. "read": the whole tree's size over the wall time, although diagnose reads only the VM's own logs (the launchers' 520 MiB) and the manifests.`,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The finding from the fixture, and the notes on what was kept and skipped: the diagnosis is the
 * fixture's own (`reference`: the fixture's directory diagnosed) up to "Could not check", so the
 * launcher pod in pods.yaml and the event in events.yaml were found.
 */
function checkOutput(file, reference) {
  const text = readFileSync(file, "utf8");
  const wanted = [
    "[not-converging, confidence high]",
    "Aborting migration: stuck for 150 seconds",
    `log of ${sourcePod}/compute:`,
    "configmaps.yaml:",
  ];
  for (const w of wanted) if (!text.includes(w)) throw new Error(`output without "${w}"`);
  const findings = (t) => t.slice(0, t.indexOf("\nCould not check:\n"));
  if (findings(text) !== findings(reference)) throw new Error("the findings differ from the fixture's");
  for (const name of ["pods.yaml", "events.yaml"]) {
    if (text.includes(`${name}:`)) throw new Error(`a note on ${name}`);
  }
  return { contains: wanted, sameFindings: true };
}

/**
 * Writes the tree, its big logs, pods.yaml and events `scale` times their full size; returns its
 * size in bytes.
 */
function writeTree(from, root, scale) {
  let total = 0;
  const write = (path, text) => {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, "w");
    total += writeSync(fd, text);
    closeSync(fd);
  };
  /** `size` bytes of `block` repeated (whole blocks), then `end`. */
  const writeRepeated = (path, block, size, end = "") => {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, "w");
    const buffer = Buffer.from(block);
    for (let written = 0; written < size; written += buffer.length) total += writeSync(fd, buffer);
    if (end) total += writeSync(fd, end);
    closeSync(fd);
  };
  const ns = (name) => join(root, "namespaces", name);
  const podLog = (namespace, pod, container) =>
    join(ns(namespace), "pods", pod, container, container, "logs", "current.log");

  // The fixture's objects, where must-gather puts them; its pod and event are buried below.
  for (const [name, dir] of [
    ["vmi.yaml", "kubevirt.io/virtualmachineinstances/busy-db.yaml"],
    ["vmim.yaml", "kubevirt.io/virtualmachineinstancemigrations/kubevirt-migrate-vm-r7t2c.yaml"],
  ]) {
    mkdirSync(dirname(join(ns("data"), dir)), { recursive: true });
    copyFileSync(join(from, name), join(ns("data"), dir));
  }
  mkdirSync(join(ns("kubevirt"), "kubevirt.io", "kubevirts"), { recursive: true });
  copyFileSync(
    join(from, "kubevirt.yaml"),
    join(ns("kubevirt"), "kubevirt.io", "kubevirts", "kubevirt.yaml"),
  );

  // The launchers of busy-db: bulk from an hour before the migration, then the fixture's log.
  const launcherLine = (i, msg) =>
    `${JSON.stringify({ component: "virt-launcher", level: "info", msg, name: "busy-db", namespace: "data", pos: "server.go:208", timestamp: `2025-06-10T13:${String(i % 60).padStart(2, "0")}:00.000000Z`, uid: "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f" })}\n`;
  let block = "";
  for (let i = 0; block.length < MiB; i++) {
    block +=
      i % 8 === 0
        ? launcherLine(
            i,
            `Migration info for 0a0b0c0d-0000-4000-8000-00000000000${i % 3}: TimeElapsed:${i}ms DataProcessed:${i}MiB DataRemaining:4000MiB DataTotal:8192MiB MemoryBandwidth:900Mbps DirtyRate:300Mbps Iteration:${i % 20}`,
          )
        : launcherLine(i, `Synced vmi, domain status Running (reason ${i % 7})`);
  }
  const story = readFileSync(join(from, `${sourcePod}/compute.log`), "utf8");
  writeRepeated(podLog("data", sourcePod, "compute"), block, 420 * MiB * scale, story);
  writeRepeated(podLog("data", targetPod, "compute"), block, 100 * MiB * scale);

  // virt-handler's logs: not the VM's evidence.
  let handlerBlock = "";
  for (let i = 0; handlerBlock.length < MiB; i++) {
    handlerBlock += `${JSON.stringify({ component: "virt-handler", level: "info", msg: `Processing event apps/vm-${i % 300}`, pos: "vm.go:1843", timestamp: "2025-06-10T13:00:00.000000Z" })}\n`;
  }
  for (const pod of ["virt-handler-7x2kq", "virt-handler-9c4fp"])
    writeRepeated(podLog("kubevirt", pod, "virt-handler"), handlerBlock, 160 * MiB * scale);

  // 300 other VMs in another namespace, 100 of them with a launcher log.
  for (let i = 0; i < 300; i++) {
    const name = `vm-${i}`;
    const pod = `virt-launcher-${name}-${String(i).padStart(5, "0")}`;
    const uid = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const yaml = (object) => stringify(object, { indentSeq: false });
    write(
      join(ns("apps"), "kubevirt.io", "virtualmachines", `${name}.yaml`),
      yaml({
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachine",
        metadata: { name, namespace: "apps", uid: `1${uid.slice(1)}`, labels: { app: name } },
        spec: {
          runStrategy: "Always",
          template: {
            metadata: { labels: { "kubevirt.io/vm": name } },
            spec: {
              domain: {
                cpu: { cores: 2 },
                memory: { guest: "4Gi" },
                devices: {
                  disks: [{ name: "root", disk: { bus: "virtio" } }],
                  interfaces: [{ name: "default", masquerade: {} }],
                },
              },
              networks: [{ name: "default", pod: {} }],
              volumes: [{ name: "root", persistentVolumeClaim: { claimName: `${name}-root` } }],
            },
          },
        },
        status: { printableStatus: "Running", ready: true, created: true },
      }),
    );
    write(
      join(ns("apps"), "kubevirt.io", "virtualmachineinstances", `${name}.yaml`),
      yaml({
        apiVersion: "kubevirt.io/v1",
        kind: "VirtualMachineInstance",
        metadata: { name, namespace: "apps", uid, creationTimestamp: "2025-06-01T00:00:00Z" },
        spec: { domain: { memory: { guest: "4Gi" }, resources: { requests: { memory: "4Gi" } } } },
        status: {
          phase: "Running",
          nodeName: `node-${i % 3}`,
          conditions: [
            { type: "Ready", status: "True" },
            { type: "LiveMigratable", status: "True" },
          ],
          launcherContainerImageVersion: "quay.io/kubevirt/virt-launcher:v1.9.0",
        },
      }),
    );
    write(
      join(ns("apps"), "pods", pod, `${pod}.yaml`),
      yaml({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: pod,
          namespace: "apps",
          labels: {
            "kubevirt.io": "virt-launcher",
            "kubevirt.io/created-by": uid,
            "vm.kubevirt.io/name": name,
          },
          annotations: { "kubevirt.io/domain": name, "kubectl.kubernetes.io/default-container": "compute" },
        },
        spec: {
          nodeName: `node-${i % 3}`,
          containers: [
            {
              name: "compute",
              image: "quay.io/kubevirt/virt-launcher:v1.9.0",
              command: ["/usr/bin/virt-launcher-monitor", "--qemu-timeout", "260s", "--name", name],
              env: Array.from({ length: 8 }, (_, k) => ({ name: `VAR_${k}`, value: `value-${k}` })),
              resources: { requests: { cpu: "200m", memory: "4400Mi" }, limits: { memory: "4400Mi" } },
            },
          ],
        },
        status: {
          phase: "Running",
          conditions: [
            { type: "Ready", status: "True" },
            { type: "PodScheduled", status: "True" },
          ],
          containerStatuses: [
            { name: "compute", image: "quay.io/kubevirt/virt-launcher:v1.9.0", ready: true, restartCount: 0 },
          ],
        },
      }),
    );
    write(
      join(ns("apps"), "core", "events", `${name}.yaml`),
      yaml({
        apiVersion: "v1",
        kind: "EventList",
        items: Array.from({ length: 3 }, (_, k) => ({
          metadata: { name: `${name}.${k}`, namespace: "apps" },
          involvedObject: { kind: "VirtualMachineInstance", name, namespace: "apps" },
          reason: "Started",
          type: "Normal",
          message: "VirtualMachineInstance started.",
          lastTimestamp: "2025-06-01T00:00:00Z",
        })),
      }),
    );
    if (i < 100) {
      const line = launcherLine(i, `Synced vmi ${name}`).replace('"name":"busy-db"', `"name":"${name}"`);
      writeRepeated(podLog("apps", pod, "compute"), line.repeat(Math.ceil((64 * 1024) / line.length)), MiB);
    }
  }

  // Every event of the cluster saved with -o json into a .yaml file: 12 MiB, under the limit.
  const events = [];
  for (let size = 0, i = 0; size < 8 * MiB; i++) {
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `vm-${i % 300}.${i}`, namespace: "apps", uid: `e-${i}` },
      involvedObject: { kind: "VirtualMachineInstance", name: `vm-${i % 300}`, namespace: "apps" },
      reason: "SyncOK",
      type: "Normal",
      message: `VirtualMachineInstance synchronized (${i})`,
      source: { component: "virt-handler", host: `node-${i % 3}` },
      firstTimestamp: "2025-06-01T00:00:00Z",
      lastTimestamp: "2025-06-10T13:00:00Z",
      count: 1 + (i % 5),
    };
    size += JSON.stringify(event).length + 6;
    events.push(event);
  }
  write(
    join(ns("apps"), "core", "events-all.yaml"),
    JSON.stringify({ apiVersion: "v1", kind: "List", items: events }, null, 2),
  );

  // `kubectl get pods -A -o yaml`: 3,000 pods of about 10 KiB, the VM's launcher in the middle.
  const podCount = Math.round(3000 * scale);
  const bulkPod = stringify([bulkPodObject()], { indentSeq: false });
  const launcher = stringify([bulkPodObject({ launcher: true })], { indentSeq: false });
  const fixturePod = stringify([parse(readFileSync(join(from, "pods.yaml"), "utf8"))], { indentSeq: false });
  const pods = ["apiVersion: v1\nitems:\n"];
  for (let i = 0; i < podCount; i++) {
    if (i === Math.floor(podCount / 2)) pods.push(fixturePod);
    pods.push((i % 10 === 0 ? launcher : bulkPod).replaceAll("@I@", String(i)));
  }
  pods.push('kind: List\nmetadata:\n  resourceVersion: ""\n');
  write(join(root, "pods.yaml"), pods.join(""));

  // The events of namespace data, one YAML document each, the VM's among them.
  const eventsYaml = [];
  const event = stringify({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "db-@N@.@I@", namespace: "data", uid: "d-@I@" },
    involvedObject: {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      name: "db-@N@",
      namespace: "data",
    },
    reason: "SyncOK",
    type: "Normal",
    message: "VirtualMachineInstance synchronized (@I@)",
    source: { component: "virt-handler", host: "node-1" },
    firstTimestamp: "2025-06-01T00:00:00Z",
    lastTimestamp: "2025-06-10T13:00:00Z",
    count: 1,
  });
  for (let size = 0, i = 0; size < 12 * MiB * scale; i++) {
    if (i === 1000) eventsYaml.push(readFileSync(join(from, "events.yaml"), "utf8"));
    const text = event.replaceAll("@N@", String(i % 500)).replaceAll("@I@", String(i));
    size += text.length + 4;
    eventsYaml.push(text);
  }
  write(join(ns("data"), "core", "events.yaml"), eventsYaml.join("---\n"));

  // The absurd file: 50 MiB of ConfigMaps as JSON on one line, named .yaml.
  const data = Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`key-${k}`, "x".repeat(4000)]));
  const items = [];
  for (let size = 0, i = 0; size < 50 * MiB; i++) {
    const item = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-${i}`, namespace: "apps" },
      data,
    };
    size += JSON.stringify(item).length;
    items.push(item);
  }
  write(
    join(ns("apps"), "core", "configmaps.yaml"),
    JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  );
  return total;
}

/**
 * A pod of about 10 KiB as kubectl prints it, `@I@` in its names for a number; with `launcher`,
 * another VM's virt-launcher pod.
 */
function bulkPodObject({ launcher = false } = {}) {
  const name = launcher ? "virt-launcher-other-@I@-x7k2p" : "web-@I@-6d9f8b7c5d-x7k2p";
  const namespace = launcher ? "other-vms" : "team-@I@";
  const labels = launcher
    ? {
        "kubevirt.io": "virt-launcher",
        "kubevirt.io/created-by": "0e0e0e0e-0000-4000-8000-00000000@I@",
        "vm.kubevirt.io/name": "other-@I@",
      }
    : { app: "web-@I@", "pod-template-hash": "6d9f8b7c5d", tier: "frontend", team: "team-@I@" };
  const container = (n) => ({
    name: `c${n}`,
    image: `registry.example.com/team/web-@I@:v1.${n}.7`,
    imagePullPolicy: "IfNotPresent",
    args: ["--port=8080", "--metrics-port=9090", "--log-level=info"],
    env: Array.from({ length: 24 }, (_, k) => ({
      name: `WEB_SETTING_${k}`,
      value: `value-${k}-for-web-@I@`,
    })),
    ports: [
      { containerPort: 8080, name: "http", protocol: "TCP" },
      { containerPort: 9090, name: "metrics", protocol: "TCP" },
    ],
    readinessProbe: { httpGet: { path: "/ready", port: 8080, scheme: "HTTP" }, periodSeconds: 10 },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, periodSeconds: 10 },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    volumeMounts: Array.from({ length: 6 }, (_, k) => ({ name: `vol-${k}`, mountPath: `/etc/web/vol-${k}` })),
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      uid: "5f5f5f5f-0000-4000-8000-00000000@I@",
      creationTimestamp: "2025-06-01T00:00:00Z",
      labels,
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({
          kind: "Deployment",
          metadata: { name: "web-@I@", labels },
          spec: { replicas: 3, template: { spec: { containers: [container(0)] } } },
        }),
      },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web-@I@-6d9f8b7c5d",
          uid: "4e4e4e4e-0000-4000-8000-00000000@I@",
          controller: true,
        },
      ],
    },
    spec: {
      containers: [container(0), container(1)],
      nodeName: "node-1",
      serviceAccountName: "default",
      tolerations: ["not-ready", "unreachable"].map((taint) => ({
        key: `node.kubernetes.io/${taint}`,
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      })),
      volumes: Array.from({ length: 6 }, (_, k) => ({
        name: `vol-${k}`,
        configMap: { name: `web-@I@-config-${k}` },
      })),
    },
    status: {
      phase: "Running",
      podIP: "10.128.3.17",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: "2025-06-01T00:00:05Z",
      })),
      containerStatuses: [0, 1].map((n) => ({
        name: `c${n}`,
        image: `registry.example.com/team/web-@I@:v1.${n}.7`,
        imageID: `registry.example.com/team/web-@I@@sha256:${"0123456789abcdef".repeat(4)}`,
        containerID: `cri-o://${"fedcba9876543210".repeat(4)}`,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: "2025-06-01T00:00:04Z" } },
      })),
    },
  };
}
