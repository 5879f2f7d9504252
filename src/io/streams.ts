// The terminal facts every other module asks about, in one place.

export interface OutStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface InStream {
  readonly isTTY?: boolean | undefined;
}

export interface Streams {
  readonly stdin: InStream;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
}
