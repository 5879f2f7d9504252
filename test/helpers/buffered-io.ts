// Fake stdio for tests: collects what was written and reports TTY facts as told.
import type { InStream, OutStream, Streams } from "../../src/io/streams.js";

export interface BufferedStreams {
  streams: Streams;
  stdout(): string;
  stderr(): string;
}

export interface BufferedStreamsOptions {
  /** All three streams are terminals (default false). */
  tty?: boolean;
  /** Override per stream; falls back to `tty`. */
  stdinTTY?: boolean;
  stdoutTTY?: boolean;
  stderrTTY?: boolean;
  columns?: number;
}

export function bufferedStreams(options: BufferedStreamsOptions = {}): BufferedStreams {
  const tty = options.tty ?? false;
  const stdout = collector(options.stdoutTTY ?? tty, options.columns);
  const stderr = collector(options.stderrTTY ?? tty, options.columns);
  const stdin: InStream = { isTTY: options.stdinTTY ?? tty };
  return {
    streams: { stdin, stdout: stdout.stream, stderr: stderr.stream },
    stdout: stdout.text,
    stderr: stderr.text,
  };
}

function collector(isTTY: boolean, columns: number | undefined): { stream: OutStream; text(): string } {
  const chunks: string[] = [];
  return {
    stream: {
      isTTY,
      columns,
      write(chunk: string) {
        chunks.push(chunk);
        return true;
      },
    },
    text: () => chunks.join(""),
  };
}
