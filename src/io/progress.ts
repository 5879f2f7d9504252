// Progress on stderr: a spinner on a terminal, plain de-duplicated lines in a pipe or log,
// nothing at all when stdout carries JSON or YAML.
import { stripVTControlCharacters } from "node:util";
import type { Ora } from "ora";
import type { IO } from "./io.js";
import type { OutStream } from "./streams.js";
import { cutToWidth } from "./table.js";
import { toTerminal } from "./untrusted.js";

export interface Progress {
  start(text: string): void;
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  warn(text: string): void;
  info(text: string): void;
  stop(): void;
  /** Resolves once pending terminal output has been drawn (the spinner module loads lazily). */
  flush(): Promise<void>;
}

export function createProgress(io: IO): Progress {
  if (io.mode !== "text") return silentProgress();
  return io.stderrIsTTY ? new SpinnerProgress(io) : new PlainProgress(io);
}

/** A Progress that draws nothing (-o json or yaml; a base for test doubles). */
export function silentProgress(): Progress {
  const nothing = () => {};
  return {
    start: nothing,
    update: nothing,
    succeed: nothing,
    fail: nothing,
    warn: nothing,
    info: nothing,
    stop: nothing,
    flush: async () => {},
  };
}

class PlainProgress implements Progress {
  // Polling loops call update() with the same text every few seconds; a log wants it once.
  #last: string | undefined;

  constructor(private readonly io: IO) {}

  start(text: string): void {
    if (text === this.#last) return;
    this.#last = text;
    this.io.err(text);
  }
  update(text: string): void {
    this.start(text);
  }
  succeed(text: string): void {
    this.#end(`ok: ${text}`);
  }
  fail(text: string): void {
    this.#end(`error: ${text}`);
  }
  warn(text: string): void {
    this.#end(`warning: ${text}`);
  }
  info(text: string): void {
    this.#end(text);
  }
  stop(): void {
    this.#last = undefined;
  }
  async flush(): Promise<void> {}

  #end(line: string): void {
    this.#last = undefined;
    this.io.err(line);
  }
}

class SpinnerProgress implements Progress {
  #spinner: Ora | undefined;
  #loading: Promise<void> | undefined;
  // What the spinner should show once ora has loaded; undefined when it should not spin.
  #text: string | undefined;

  constructor(private readonly io: IO) {}

  start(text: string): void {
    // ora writes to the raw stream (its own escapes must pass): the text is made safe here.
    this.#text = toTerminal(text);
    if (!this.#spinner) {
      this.#load();
    } else {
      this.#spinner.text = this.#text;
      if (this.#spinner.isSpinning) this.#spinner.render();
      else this.#spinner.start();
    }
  }
  update(text: string): void {
    this.start(text);
  }
  succeed(text: string): void {
    this.#persist(this.io.errColors.ok("✔"), text);
  }
  fail(text: string): void {
    this.#persist(this.io.errColors.error("✖"), text);
  }
  warn(text: string): void {
    this.#persist(this.io.errColors.warn("⚠"), text);
  }
  info(text: string): void {
    this.#persist(this.io.errColors.accent("ℹ"), text);
  }
  stop(): void {
    this.#text = undefined;
    this.#spinner?.stop();
  }
  async flush(): Promise<void> {
    await this.#loading;
  }

  #persist(symbol: string, text: string): void {
    this.#text = undefined;
    if (this.#spinner) {
      this.#spinner.stopAndPersist({ symbol: toTerminal(symbol), text: toTerminal(text) });
    } else {
      // Nothing has been drawn yet, so the final line can go out now, in order with whatever
      // the caller writes next. This is also all that shows if ora cannot load.
      this.io.err(`${symbol} ${text}`);
    }
  }

  #load(): void {
    this.#loading ??= import("ora").then(
      ({ default: ora }) => {
        this.#spinner = ora({
          stream: terminalStream(this.io.streams.stderr),
          isEnabled: true,
          color: this.io.errColors.enabled ? "cyan" : false,
          // Raw-mode stdin would fight the prompts and swallow Ctrl-C handling; leave stdin alone.
          discardStdin: false,
        });
        if (this.#text !== undefined) this.#spinner.start(this.#text);
      },
      () => {
        // A spinner is decoration: without it the final lines still print (see #persist).
      },
    );
  }
}

/**
 * ora draws with the cursor methods of a tty.WriteStream; OutStream only has write(). This one
 * also keeps a resize from eating the lines above the spinner. ora clears as many lines as its
 * last frame took at the width it was drawn; when the terminal is resized in between, that is
 * too many (widened: the lines above the spinner are erased) or too few. So every frame is cut
 * to the width of the terminal as it is now, which makes it one line, ora is told the frames
 * never wrap, and the cursor waits at the start of the frame: clearing from there to the end of
 * the screen takes away the frame whether or not the terminal re-wrapped it, and nothing above.
 */
export function terminalStream(out: OutStream): NodeJS.WritableStream {
  const csi = (code: string) => {
    out.write(`\u001B[${code}`);
    return true;
  };
  // Node learns of a resize from SIGWINCH on a later turn of the event loop; a frame drawn in
  // between would be cut to the old width and wrap. A tty.WriteStream can ask the terminal now.
  const width = () => {
    try {
      (out as { _refreshSize?: () => void })._refreshSize?.();
    } catch {
      // The size stays as Node last knew it.
    }
    // A pseudo-terminal may report 0 columns (script(1), some CI runners).
    return out.columns !== undefined && out.columns > 0 ? out.columns : 80;
  };
  const stream = {
    isTTY: true,
    // What ora divides a frame's length by to count its lines: a frame is always one line.
    get columns() {
      return Number.MAX_SAFE_INTEGER;
    },
    // Always true: ora's back-pressure path needs an EventEmitter, and stderr buffers anyway.
    write(chunk: string | Uint8Array) {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      // A frame: text that does not end the line (a persisted line does; a cursor move has no text).
      const frame = !text.endsWith("\n") && stripVTControlCharacters(text) !== "";
      out.write(frame ? `${cutToWidth(text, width() - 1)}\r` : text);
      return true;
    },
    cursorTo: (x: number) => csi(`${x + 1}G`),
    moveCursor: (dx: number, dy: number) => {
      if (dx !== 0) csi(dx < 0 ? `${-dx}D` : `${dx}C`);
      if (dy !== 0) csi(dy < 0 ? `${-dy}A` : `${dy}B`);
      return true;
    },
    // To the end of the screen, not of the line: a frame the terminal re-wrapped takes more than one.
    clearLine: (dir: -1 | 0 | 1) => csi(dir < 0 ? "1K" : dir > 0 ? "0J" : "2K"),
  };
  return stream as unknown as NodeJS.WritableStream;
}
