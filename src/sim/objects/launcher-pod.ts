// The virt-launcher pod of a running VMI, as virt-controller's template renders it and the kubelet
// reports its status. The largest single object here, hence a module of its own.

import { kubevirtApiVersion, nonRootUid, outdatedLauncherImageLabel } from "./constants.js";
import {
  compact,
  goObject,
  hashedPodInterfaceName,
  imageId,
  type Json,
  mebibytes,
  rfc3339,
  sanitizeHostname,
  vmiIdLabel,
} from "./format.js";
import { claimName, templateAnnotations, templateLabels } from "./vm.js";
import {
  containerDiskContainerName,
  resolved,
  type VmDescription,
  type VmPlan,
  type VmVolumeDescription,
} from "./vm-plan.js";

/** The compute container's memory request: guest memory plus virt-launcher's overhead estimate. */
function launcherMemoryRequest(desc: VmDescription): string {
  const r = resolved(desc);
  const guestMi = mebibytes(r.memory);
  const overheadMi = 230 + 8 * r.cores + Math.ceil(guestMi / 512) + 32 + 16;
  return `${guestMi + overheadMi}Mi`;
}

function runningStatus(name: string, image: string, containerId: string, startedAt: number): Json {
  return {
    name,
    state: { running: { startedAt: rfc3339(startedAt) } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: `containerd://${containerId}`,
    started: true,
  };
}

function completedStatus(name: string, image: string, containerId: string, from: number, to: number): Json {
  return {
    name,
    state: {
      terminated: {
        exitCode: 0,
        reason: "Completed",
        startedAt: rfc3339(from),
        finishedAt: rfc3339(to),
        containerID: `containerd://${containerId}`,
      },
    },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: imageId(image),
    containerID: `containerd://${containerId}`,
    started: false,
  };
}

const restrictedSecurityContext = {
  capabilities: { drop: ["ALL"] },
  runAsUser: nonRootUid,
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
};

export function launcherPod(desc: VmDescription, plan: VmPlan): Json {
  const r = resolved(desc);
  const t = plan.times;
  const id = (name: string) => plan.containerIds[name] ?? "";
  const containerDisks = r.volumes.filter((volume) => volume.kind === "containerDisk");
  const pvcs = r.volumes.filter((volume) => volume.kind === "pvc");
  const secondary = r.networks.filter((network) => network.multus !== undefined);
  const hostname = sanitizeHostname(desc.name);
  const diskDataDir = `/var/run/kubevirt-ephemeral-disks/container-disk-data/${plan.vmiUid}`;

  const labels: Record<string, string> = {
    ...templateLabels(desc),
    "kubevirt.io": "virt-launcher",
    "kubevirt.io/created-by": plan.vmiUid,
    "kubevirt.io/nodeName": desc.node,
    "vm.kubevirt.io/name": hostname,
    "vmi.kubevirt.io/id": vmiIdLabel(desc.name),
  };
  if (plan.outdated) labels[outdatedLauncherImageLabel] = "";

  const annotations: Record<string, string> = {
    ...templateAnnotations(desc),
    "kubevirt.io/domain": desc.name,
    "kubectl.kubernetes.io/default-container": "compute",
    "kubevirt.io/migrationTransportUnix": "true",
    "descheduler.alpha.kubernetes.io/request-evict-only": "",
    "kubevirt.io/vm-generation": "1",
    "pre.hook.backup.velero.io/container": "compute",
    "pre.hook.backup.velero.io/command": `["/usr/bin/virt-freezer", "--freeze", "--name", "${desc.name}", "--namespace", "${desc.namespace}"]`,
    "pre.hook.backup.velero.io/timeout": "60s",
    "post.hook.backup.velero.io/container": "compute",
    "post.hook.backup.velero.io/command": `["/usr/bin/virt-freezer", "--unfreeze", "--name", "${desc.name}", "--namespace", "${desc.namespace}"]`,
  };
  if (secondary.length > 0) {
    annotations["k8s.v1.cni.cncf.io/networks"] = JSON.stringify(
      secondary.map((network) => ({
        name: network.multus,
        namespace: desc.namespace,
        ...(network.macAddress ? { mac: network.macAddress } : {}),
        interface: hashedPodInterfaceName(network.name),
      })),
    );
  }
  const networkStatus: Json[] = [
    {
      name: "k8s-pod-network",
      interface: "eth0",
      ips: [plan.podIP],
      mac: plan.podMacs.eth0,
      default: true,
      dns: {},
    },
    ...secondary.map((network) => ({
      name: `${desc.namespace}/${network.multus}`,
      interface: hashedPodInterfaceName(network.name),
      mac: plan.podMacs[network.name],
      dns: {},
    })),
  ];
  annotations["k8s.v1.cni.cncf.io/network-status"] = JSON.stringify(networkStatus, null, 4);

  const computeMounts: Json[] = [
    { name: "private", mountPath: "/var/run/kubevirt-private" },
    { name: "public", mountPath: "/var/run/kubevirt" },
    { name: "ephemeral-disks", mountPath: "/var/run/kubevirt-ephemeral-disks" },
    {
      name: "container-disks",
      mountPath: "/var/run/kubevirt/container-disks",
      mountPropagation: "HostToContainer",
    },
    { name: "libvirt-runtime", mountPath: "/var/run/libvirt" },
    { name: "sockets", mountPath: "/var/run/kubevirt/sockets" },
  ];
  for (const volume of pvcs) {
    if ((volume.volumeMode ?? "Block") === "Filesystem") {
      computeMounts.push({
        name: volume.name,
        mountPath: `/var/run/kubevirt-private/vmi-disks/${volume.name}`,
      });
    }
  }
  computeMounts.push({
    name: "hotplug-disks",
    mountPath: "/var/run/kubevirt/hotplug-disks",
    mountPropagation: "HostToContainer",
  });
  const blockDevices = pvcs
    .filter((volume) => (volume.volumeMode ?? "Block") === "Block")
    .map((volume) => ({ name: volume.name, devicePath: `/dev/${volume.name}` }));

  const devices = {
    "devices.kubevirt.io/kvm": "1",
    "devices.kubevirt.io/tun": "1",
    "devices.kubevirt.io/vhost-net": "1",
  };
  const compute = compact({
    name: "compute",
    image: desc.launcherImage,
    command: ["/usr/bin/virt-launcher-monitor"],
    args: [
      "--qemu-timeout",
      `${plan.qemuTimeoutSeconds}s`,
      "--name",
      desc.name,
      "--uid",
      plan.vmiUid,
      "--namespace",
      desc.namespace,
      "--kubevirt-share-dir",
      "/var/run/kubevirt",
      "--ephemeral-disk-dir",
      "/var/run/kubevirt-ephemeral-disks",
      "--container-disk-dir",
      "/var/run/kubevirt/container-disks",
      "--grace-period-seconds",
      String(r.grace + 15),
      "--hook-sidecars",
      "0",
      "--ovmf-path",
      "/usr/share/OVMF",
      "--disk-memory-limit",
      "2097152000",
      "--hypervisor",
      "kvm",
      "--run-as-nonroot",
    ],
    env: [
      { name: "XDG_CACHE_HOME", value: "/var/run/kubevirt-private" },
      { name: "XDG_CONFIG_HOME", value: "/var/run/kubevirt-private" },
      { name: "XDG_RUNTIME_DIR", value: "/var/run" },
      { name: "POD_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
    ],
    resources: {
      limits: { ...devices },
      requests: {
        cpu: `${100 * r.cores}m`,
        ...devices,
        "ephemeral-storage": "50M",
        memory: launcherMemoryRequest(desc),
      },
    },
    volumeMounts: computeMounts,
    volumeDevices: blockDevices.length > 0 ? blockDevices : undefined,
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
    securityContext: {
      capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
      privileged: false,
      runAsUser: nonRootUid,
      runAsGroup: nonRootUid,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
    },
  });

  const diskResources = {
    limits: { cpu: "10m", memory: "40M" },
    requests: { cpu: "1m", "ephemeral-storage": "50M", memory: "1M" },
  };
  const diskImage = (volume: VmVolumeDescription) => volume.image ?? r.os.containerDisk;
  // The copier container of a containerDisk, and its init twin, differ only in name and args.
  const diskContainer = (volume: VmVolumeDescription, name: string, args: string[]): Json => ({
    name,
    image: diskImage(volume),
    command: ["/usr/bin/container-disk"],
    args,
    resources: diskResources,
    volumeMounts: [
      { name: "container-disks", mountPath: diskDataDir },
      { name: "virt-bin-share-dir", mountPath: "/usr/bin" },
    ],
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: "IfNotPresent",
    securityContext: restrictedSecurityContext,
  });
  const diskContainers = containerDisks.map((volume) =>
    diskContainer(volume, containerDiskContainerName(volume.name), [
      "--copy-path",
      `${diskDataDir}/disk_${r.volumes.indexOf(volume)}`,
    ]),
  );

  const initContainers: Json[] = [
    {
      name: "guest-console-log",
      image: desc.launcherImage,
      command: ["/usr/bin/virt-tail"],
      args: ["--logfile", `/var/run/kubevirt-private/${plan.vmiUid}/virt-serial0-log`],
      env: [{ name: "VIRT_LAUNCHER_LOG_VERBOSITY", value: "2" }],
      resources: { limits: { cpu: "15m", memory: "60M" }, requests: { cpu: "5m", memory: "35M" } },
      restartPolicy: "Always",
      volumeMounts: [{ name: "private", mountPath: "/var/run/kubevirt-private", readOnly: true }],
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "IfNotPresent",
      securityContext: restrictedSecurityContext,
    },
  ];
  if (containerDisks.length > 0) {
    initContainers.push({
      name: "container-disk-binary",
      image: desc.launcherImage,
      command: ["/usr/bin/cp"],
      args: ["--preserve=all", "/usr/bin/container-disk", "/init/usr/bin/container-disk"],
      env: [
        { name: "XDG_CACHE_HOME", value: "/var/run/kubevirt-private" },
        { name: "XDG_CONFIG_HOME", value: "/var/run/kubevirt-private" },
        { name: "XDG_RUNTIME_DIR", value: "/var/run" },
      ],
      resources: diskResources,
      volumeMounts: [{ name: "virt-bin-share-dir", mountPath: "/init/usr/bin" }],
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "IfNotPresent",
      securityContext: { ...restrictedSecurityContext, privileged: false },
    });
    for (const volume of containerDisks) {
      initContainers.push(
        diskContainer(volume, `${containerDiskContainerName(volume.name)}-init`, ["--no-op"]),
      );
    }
  }

  const emptyDir = (name: string) => ({ name, emptyDir: {} });
  const volumes: Json[] = [
    emptyDir("private"),
    emptyDir("public"),
    emptyDir("sockets"),
    emptyDir("virt-bin-share-dir"),
    emptyDir("libvirt-runtime"),
    emptyDir("ephemeral-disks"),
    emptyDir("container-disks"),
    ...pvcs.map((volume) => ({
      name: volume.name,
      persistentVolumeClaim: { claimName: claimName(desc, volume) },
    })),
    emptyDir("hotplug-disks"),
  ];

  const nodeSelector: Record<string, string> = {
    ...desc.nodeSelector,
    ...desc.launcherNodeSelector,
    "kubevirt.io/schedulable": "true",
    "machine-type.node.kubevirt.io/q35": "true",
  };
  if (r.cpuModel !== "host-model" && r.cpuModel !== "host-passthrough") {
    nodeSelector[`cpu-model.node.kubevirt.io/${r.cpuModel}`] = "true";
  }
  const affinity =
    r.cpuModel === "host-model"
      ? {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: "node-labeller.kubevirt.io/obsolete-host-model", operator: "DoesNotExist" },
                  ],
                },
              ],
            },
          },
        }
      : undefined;

  const condition = (type: string, at: number) => ({
    type,
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: rfc3339(at),
  });
  const initStatuses: Json[] = [
    runningStatus("guest-console-log", desc.launcherImage, id("guest-console-log"), t.initStarted),
  ];
  if (containerDisks.length > 0) {
    initStatuses.push(
      completedStatus(
        "container-disk-binary",
        desc.launcherImage,
        id("container-disk-binary"),
        t.initStarted,
        t.initStarted + 200,
      ),
    );
    for (const volume of containerDisks) {
      const name = `${containerDiskContainerName(volume.name)}-init`;
      initStatuses.push(
        completedStatus(name, diskImage(volume), id(name), t.initStarted + 300, t.initFinished),
      );
    }
  }

  return goObject({
    kind: "Pod",
    apiVersion: "v1",
    metadata: {
      name: plan.podName,
      generateName: `virt-launcher-${desc.name}-`,
      namespace: desc.namespace,
      uid: plan.podUid,
      creationTimestamp: rfc3339(t.podCreated),
      labels,
      annotations,
      ownerReferences: [
        {
          apiVersion: kubevirtApiVersion,
          kind: "VirtualMachineInstance",
          name: desc.name,
          uid: plan.vmiUid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: compact({
      volumes,
      initContainers,
      containers: [compute, ...diskContainers],
      restartPolicy: "Never",
      terminationGracePeriodSeconds: r.grace + 30,
      dnsPolicy: "ClusterFirst",
      nodeSelector,
      serviceAccountName: "default",
      serviceAccount: "default",
      automountServiceAccountToken: false,
      nodeName: desc.node,
      securityContext: {
        runAsUser: nonRootUid,
        runAsGroup: nonRootUid,
        runAsNonRoot: true,
        fsGroup: nonRootUid,
      },
      hostname,
      affinity,
      schedulerName: "default-scheduler",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      readinessGates: [{ conditionType: "kubevirt.io/virtual-machine-unpaused" }],
      enableServiceLinks: false,
      preemptionPolicy: "PreemptLowerPriority",
    }),
    status: {
      phase: "Running",
      conditions: [
        condition("kubevirt.io/virtual-machine-unpaused", t.podCreated),
        condition("PodReadyToStartContainers", t.initStarted),
        condition("Initialized", t.initFinished),
        condition("Ready", t.podReady),
        condition("ContainersReady", t.podReady),
        condition("PodScheduled", t.podCreated),
      ],
      hostIP: plan.node.internalIP,
      hostIPs: [{ ip: plan.node.internalIP }],
      podIP: plan.podIP,
      podIPs: [{ ip: plan.podIP }],
      startTime: rfc3339(t.podCreated),
      initContainerStatuses: initStatuses,
      containerStatuses: [
        runningStatus("compute", desc.launcherImage, id("compute"), t.containersStarted),
        ...containerDisks.map((volume) => {
          const name = containerDiskContainerName(volume.name);
          return runningStatus(name, diskImage(volume), id(name), t.containersStarted);
        }),
      ],
      qosClass: "Burstable",
    },
  });
}
