// The terminal facts every other module asks about, in one place.

export interface OutStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface InStream {
  readonly isTTY?: boolean | undefined;
  /**
   * The readable stream itself, for prompts. A function, so that a run that never prompts never
   * touches process.stdin (opening it costs start-up time and can hold the process open).
   */
  open?(): NodeJS.ReadableStream;
}

export interface Streams {
  readonly stdin: InStream;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
}
