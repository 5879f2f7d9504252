// Stands in for node:child_process inside commander, which needs it only for executable
// subcommands (`program.command("x", "description")`), a feature kvmig does not use. Loading the
// real module costs about a third of kvmig's start-up; the Kubernetes client still gets it.
function unsupported() {
  throw new Error("kvmig does not run executable subcommands");
}
export default { spawn: unsupported };
