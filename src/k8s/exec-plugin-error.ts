// An exec credential plugin's failure, with a hint; connect.ts makes it one line and the hint. Its
// own module, so that connect.ts can tell it apart without loading the plugin runner
// (exec-credential.ts), which only a kubeconfig with an exec user loads.

export class ExecPluginError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}
