// Cutting a manifest file into pieces small enough to parse one at a time, so that a file of any
// size costs the memory of its largest object rather than tens of times its own size (the YAML
// parser's cost). Documents end at their `---` and `...` lines (at column 0, where YAML allows
// nothing else); a list's items (`kind: List`, `PodList`, ... and a document with `items` and no
// kind) are pieces of their own: YAML with `items:` at column 0 and its entries at any indent
// (kubectl writes them at column 0), or JSON printed one value a line (kubectl -o json). The rest
// of such a list is one more piece, its items left out. A piece's `kind` is spotted on the way, so
// that what nobody reads need not be parsed. Lines in, pieces out: no I/O, no parsing. A piece
// over the size limit keeps no text: only its size is counted, for the note.

export interface ManifestPiece {
  /**
   * `document`: a whole document; `item`: one entry of a list's items; `rest`: the list that the
   * items before it came from, with `items` empty (it follows them).
   */
  role: "document" | "item" | "rest";
  /** Undefined when the piece is larger than the limit. */
  text: string | undefined;
  bytes: number;
  /** Where the piece starts in the file (1-based). */
  line: number;
  /** Whether it looks like JSON (starts with a brace or bracket). */
  json: boolean;
  /**
   * The piece's own `kind`, from its one `kind` line at the indent of its top-level keys (where
   * YAML allows nothing but keys, and pretty JSON prints them), when a `metadata` key with a
   * value to come is there too; undefined when not seen for sure.
   */
  kind?: string | undefined;
  /** For an item: the list's `kind` when it came before the items (JSON from the API has it first). */
  listKind?: string | undefined;
}

const documentStart = /^---(?:[ \t]|$)/;
const bareDocumentStart = /^---[ \t]*(?:#.*)?$/;
const documentEnd = /^\.\.\.(?:[ \t]|$)/;
const blankOrComment = /^[ \t]*(?:#.*)?$/;
const yamlItems = /^items:[ \t]*(?:#.*)?$/;
const yamlItemStart = /^( *)-(?:[ \t]|$)/;
/** An item whose first line is `- key: ...`: its keys are where that key is. */
const yamlItemFirstKey = /^ *- +(?=[A-Za-z"'])/;
const jsonItems = /^ *"items": ?\[$/;
const jsonArrayEnd = /^ *\](,?)$/;
/** `kind: X` (YAML) or `"kind": "X",` (JSON), from the indent of the keys on. */
const kindAt = /(?:kind|"kind"):[ \t]*(["']?)([A-Za-z0-9.]+)\1,?[ \t]*$/y;
/** `metadata:` with a block to follow (YAML), or `"metadata": {` (JSON and YAML's flow style). */
const metadataAt = /(?:metadata|"metadata"):[ \t]*(?:\{.*|#.*)?$/y;

function indentOf(text: string): number {
  let i = 0;
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

/** Lines of text, and their size, up to a limit; past it only the size. And the kind they name. */
class Lines {
  private lines: string[] | undefined = [];
  bytes = 0;
  /** The indent of the top-level keys, when known: where the `kind` line is looked for. */
  keyIndent: number | undefined;
  private spotted: string | undefined;
  private conflict = false;
  private metadata = false;

  constructor(
    readonly line: number,
    private readonly limit: number,
  ) {}

  add(text: string, bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > this.limit) this.lines = undefined;
    else this.lines?.push(text);
    this.spot(text);
  }

  /** Looks for the kind on a line at the indent of the keys. */
  private spot(text: string): void {
    if (this.keyIndent !== undefined && indentOf(text) === this.keyIndent) this.spotAt(text, this.keyIndent);
  }

  /** Looks for the kind (and metadata) at a column of a line. */
  spotAt(text: string, column: number): void {
    metadataAt.lastIndex = column;
    if (metadataAt.test(text)) this.metadata = true;
    kindAt.lastIndex = column;
    const kind = kindAt.exec(text)?.[2];
    if (kind === undefined) return;
    if (this.spotted !== undefined && this.spotted !== kind) this.conflict = true;
    this.spotted = kind;
  }

  /** The kind, unless none or two were seen. */
  get kind(): string | undefined {
    return this.conflict ? undefined : this.spotted;
  }

  /** The kind of an object: with metadata. */
  get objectKind(): string | undefined {
    return this.metadata ? this.kind : undefined;
  }

  text(): string | undefined {
    return this.lines?.join("\n");
  }
}

interface DocumentState {
  /** The document, or when its items are split off, the rest of it. */
  body: Lines | undefined;
  /** Whether a line other than blanks, comments, directives and the `---` was seen. */
  content: boolean;
  marker: boolean;
  json: boolean;
  /** JSON printed one value a line: `{` alone on the first line; the keys' indent is the next line's. */
  pretty: boolean;
  /** Content on the `---` line (`--- |`, `--- {...}`): the document is read whole. */
  whole: boolean;
  mode: "top" | "itemsStart" | "items";
  /** The `items` line (and blank lines after it), held until the first item shows they split. */
  held: { text: string; bytes: number }[];
  /** The indent of the items' `- ` (YAML) or `{` (JSON). */
  itemIndent: number;
  item: Lines | undefined;
  split: boolean;
}

function newDocument(): DocumentState {
  return {
    body: undefined,
    content: false,
    marker: false,
    json: false,
    pretty: false,
    whole: false,
    mode: "top",
    held: [],
    itemIndent: 0,
    item: undefined,
    split: false,
  };
}

export class ManifestSplitter {
  private lineNumber = 0;
  private doc = newDocument();
  /** Whether any line held more than white space. */
  sawText = false;

  constructor(
    /** A piece larger than this (in bytes) keeps no text. */
    private readonly maxBytes: number,
    private readonly emit: (piece: ManifestPiece) => void,
  ) {}

  /** One line, without its line break; `bytes`: its size in the file, with the line break. */
  push(line: string, bytes: number): void {
    this.lineNumber++;
    let text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (this.lineNumber === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
    if (!this.sawText && /\S/.test(text)) this.sawText = true;
    if (documentStart.test(text)) this.startDocument(text, bytes);
    else if (documentEnd.test(text)) this.endDocument();
    else if (this.doc.mode === "items" && this.itemLine(text, bytes)) return;
    else if (this.doc.mode === "itemsStart" && this.firstItemLine(text, bytes)) return;
    else this.topLine(text, bytes);
  }

  /** The end of the file. */
  end(): void {
    this.endDocument();
  }

  private get body(): Lines {
    this.doc.body ??= new Lines(this.lineNumber, this.maxBytes);
    return this.doc.body;
  }

  private startDocument(text: string, bytes: number): void {
    if (this.doc.content || this.doc.marker) this.endDocument();
    const doc = this.doc;
    doc.marker = true;
    if (bareDocumentStart.test(text)) {
      // A bare marker is kept only after directives, which need it.
      if (doc.body) doc.body.add(text, bytes);
      return;
    }
    // Content on the marker's line (`--- |`, `--- {...}`): the document is not split, and its
    // kind is not looked for.
    this.body.add(text, bytes);
    doc.content = true;
    doc.whole = true;
    doc.json = /^---[ \t]+[[{]/.test(text);
  }

  private topLine(text: string, bytes: number): void {
    const doc = this.doc;
    if (!doc.content) {
      if (blankOrComment.test(text) || text.startsWith("%")) {
        if (doc.body || text.startsWith("%")) this.body.add(text, bytes);
        return;
      }
      doc.content = true;
      doc.json = /^[ \t]*[[{]/.test(text);
      doc.pretty = /^[ \t]*\{[ \t]*$/.test(text);
      // A YAML mapping's keys are at column 0; pretty JSON's, on the next line.
      if (!doc.json) this.body.keyIndent = 0;
      this.body.add(text, bytes);
      return;
    }
    const body = this.body;
    if (doc.whole) {
      body.add(text, bytes);
      return;
    }
    if (doc.pretty && body.keyIndent === undefined) body.keyIndent = indentOf(text);
    const items = doc.json
      ? doc.pretty && indentOf(text) === body.keyIndent && jsonItems.test(text)
      : yamlItems.test(text);
    // Items split when the kind, if seen yet, is a list's.
    const kind = body.kind;
    if (items && (kind === undefined || kind.endsWith("List"))) {
      doc.mode = "itemsStart";
      doc.held.push({ text, bytes });
    } else {
      body.add(text, bytes);
    }
  }

  /** The line after `items:`: a sequence of items splits, anything else is read as it is. */
  private firstItemLine(text: string, bytes: number): boolean {
    const doc = this.doc;
    if (!doc.json && blankOrComment.test(text)) {
      doc.held.push({ text, bytes });
      return true;
    }
    const indent = indentOf(text);
    const isItem = doc.json
      ? text.slice(indent) === "{" && indent > (this.body.keyIndent ?? 0)
      : yamlItemStart.test(text);
    if (!isItem) {
      this.releaseHeld();
      return false;
    }
    doc.mode = "items";
    doc.split = true;
    doc.itemIndent = indent;
    // YAML keeps the key's place in the rest; JSON puts it where the `]` is, to keep its comma.
    if (!doc.json) this.body.add("items: []", 10);
    doc.held = [];
    this.startItem(text, bytes);
    return true;
  }

  /** The held `items` line back into the document: its value is not a sequence to split. */
  private releaseHeld(): void {
    const doc = this.doc;
    doc.mode = "top";
    for (const { text, bytes } of doc.held) this.body.add(text, bytes);
    doc.held = [];
  }

  private startItem(text: string, bytes: number): void {
    this.endItem();
    const item = new Lines(this.lineNumber, this.maxBytes);
    // `- kind: Pod`: the keys are where the first one is. JSON's are on the next line.
    const first = this.doc.json ? null : yamlItemFirstKey.exec(text);
    if (first) {
      item.keyIndent = first[0].length;
      item.spotAt(text, first[0].length);
    }
    item.add(text, bytes);
    this.doc.item = item;
  }

  private endItem(): void {
    const item = this.doc.item;
    if (!item) return;
    this.doc.item = undefined;
    this.emit({
      role: "item",
      text: item.text(),
      bytes: item.bytes,
      line: item.line,
      json: this.doc.json,
      kind: item.objectKind,
      listKind: this.doc.body?.kind,
    });
  }

  /** A line among the items: false when it ends them (then it is read as a top-level line). */
  private itemLine(text: string, bytes: number): boolean {
    const doc = this.doc;
    const indent = indentOf(text);
    if (doc.json) {
      if (indent === doc.itemIndent && text.slice(indent) === "{") this.startItem(text, bytes);
      else if (indent >= doc.itemIndent) {
        if (doc.item && doc.item.keyIndent === undefined) doc.item.keyIndent = indent;
        doc.item?.add(text, bytes);
      } else {
        this.endItem();
        doc.mode = "top";
        const close = jsonArrayEnd.exec(text);
        const comma = close ? (close[1] ?? "") : ",";
        this.body.add(`${" ".repeat(this.body.keyIndent ?? 0)}"items": []${comma}`, 12);
        return close !== null;
      }
      return true;
    }
    // Blank lines and comments, and anything indented deeper, belong to the item they follow;
    // a `- ` at the items' indent starts the next; anything else at or left of it ends them.
    if (blankOrComment.test(text) || indent > doc.itemIndent) doc.item?.add(text, bytes);
    else if (indent === doc.itemIndent && yamlItemStart.test(text)) this.startItem(text, bytes);
    else {
      this.endItem();
      doc.mode = "top";
      return false;
    }
    return true;
  }

  private endDocument(): void {
    const doc = this.doc;
    if (doc.mode === "items") {
      this.endItem();
      // JSON cut off before its `]`: the rest says so when parsed.
      if (doc.json) this.body.add(`${" ".repeat(this.body.keyIndent ?? 0)}"items": []`, 11);
    }
    if (doc.mode === "itemsStart") this.releaseHeld();
    const body = doc.body;
    if (doc.split || doc.content) {
      this.emit({
        role: doc.split ? "rest" : "document",
        text: body ? body.text() : "",
        bytes: body?.bytes ?? 0,
        line: body?.line ?? this.lineNumber,
        json: doc.json,
        kind: doc.split ? undefined : body?.objectKind,
      });
    }
    this.doc = newDocument();
  }
}
