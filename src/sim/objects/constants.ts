// Spellings several builders share (KubeVirt v1.9 API version, labels, annotations, machine type,
// the launcher's uid): kept in one place so that the VM, VMI, launcher pod, their logs and the
// controllers cannot drift apart.

export const kubevirtApiVersion = "kubevirt.io/v1";
export const outdatedLauncherImageLabel = "kubevirt.io/outdatedLauncherImage";
/** Launcher logs' libvirt URI for a non-root VMI (cmd/virt-launcher/virt-launcher.go). */
export const sessionLibvirtUri = "qemu+unix:///session?socket=/var/run/libvirt/virtqemud-sock";
/** The qemu machine type q35 resolves to in the v1.9 launcher image. */
export const resolvedMachineType = "pc-q35-rhel9.6.0";
/** The non-root uid/gid virt-launcher runs as (`util.NonRootUID`). */
export const nonRootUid = 107;

/**
 * Annotation carrying the simulated guest's memory dirty rate (MiB/s). It is a user annotation on
 * the VM template, so KubeVirt propagates it to the VMI and the launcher pod like any other; the
 * migration simulation reads it from there.
 */
export const dirtyRateAnnotation = "sim.kvmig.dev/dirty-rate-mibps";
