// A Kubernetes list answer read as it arrives: each object of its `items` array is parsed on its
// own as soon as its last byte is in, and the rest (kind, apiVersion, metadata with the continue
// token) once the answer ends. So a page of a long list is never held whole, neither as text nor
// as one parsed tree: the objects die young, one after the other, and memory stays the same
// however long the list.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** What a list answer says besides its items. */
export interface ListMeta {
  metadata?: { continue?: string; resourceVersion?: string; remainingItemCount?: number };
  [field: string]: unknown;
}

/** Thrown when the bytes are not one JSON object (or end too early). */
export class ListSyntaxError extends Error {}

export class ListReader<T> {
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The top-level string just read (a key, when a colon follows). */
  #topString: number[] | undefined;
  #lastTopString = "";
  #key = "";
  /** Inside the top-level `items` array. */
  #inItems = false;
  #itemsDone = false;
  /** The bytes of the item being read, from chunks before this one. */
  #item: Buffer[] = [];
  #inItem = false;
  /** The answer without the items' bytes. */
  #rest: Buffer[] = [];
  #bytes = 0;
  /** The answer's first bytes, for an error that says what came instead of a list. */
  head = "";

  /** Reads the next chunk; returns the items it completes. */
  push(chunk: Buffer): T[] {
    const items: T[] = [];
    if (this.#bytes === 0) this.head = chunk.subarray(0, 64).toString("utf8");
    this.#bytes += chunk.length;
    // The state in locals while the loop runs (a field access per byte would cost).
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    let inItems = this.#inItems;
    let inItem = this.#inItem;
    // Where the current piece of "rest", or of an item, starts in this chunk (-1: none).
    let restFrom = inItems ? -1 : 0;
    let itemFrom = inItem ? 0 : -1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      if (inString && this.#topString === undefined) {
        // Most bytes are inside strings: jump to the next quote that no backslash escapes.
        if (escaped) {
          escaped = false;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const end = quote < 0 ? n : quote;
        let b = end - 1;
        while (b >= i && chunk[b] === BACKSLASH) b--;
        const odd = (end - 1 - b) % 2 === 1;
        if (quote < 0) {
          escaped = odd;
          break;
        }
        i = quote;
        if (!odd) inString = false;
        continue;
      }
      const c = chunk[i] as number;
      if (inString) {
        if (escaped) {
          escaped = false;
          this.#topString?.push(c);
        } else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (this.#topString) {
            this.#lastTopString = Buffer.from(this.#topString).toString("utf8");
            this.#topString = undefined;
          }
        } else this.#topString?.push(c);
        continue;
      }
      if (c === QUOTE) {
        inString = true;
        if (depth === 1) this.#topString = [];
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === 0 && c !== OPEN_BRACE) throw new ListSyntaxError("the answer is not an object");
        if (depth === 1 && c === OPEN_BRACKET && this.#key === "items" && !this.#itemsDone) {
          inItems = true;
          this.#rest.push(Buffer.from(chunk.subarray(restFrom, i + 1)));
          restFrom = -1;
        } else if (inItems && depth === 2) {
          inItem = true;
          itemFrom = i;
        }
        depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth < 0) throw new ListSyntaxError("unbalanced brackets");
        if (inItem && depth === 2) {
          const tail = chunk.subarray(itemFrom, i + 1);
          const bytes = this.#item.length === 0 ? tail : Buffer.concat([...this.#item, tail]);
          this.#item = [];
          inItem = false;
          itemFrom = -1;
          items.push(JSON.parse(bytes.toString("utf8")) as T);
        } else if (inItems && depth === 1) {
          inItems = false;
          this.#itemsDone = true;
          restFrom = i;
        }
      } else if (depth === 1) {
        if (c === COLON) this.#key = this.#lastTopString;
        else if (c === COMMA) this.#key = "";
      }
    }
    if (inItem && itemFrom >= 0) this.#item.push(Buffer.from(chunk.subarray(itemFrom)));
    if (restFrom >= 0) this.#rest.push(Buffer.from(chunk.subarray(restFrom)));
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    this.#inItems = inItems;
    this.#inItem = inItem;
    return items;
  }

  /** The answer has ended: what it says besides the items. */
  end(): ListMeta {
    if (this.#bytes === 0) throw new ListSyntaxError("the answer is empty");
    if (this.#depth !== 0 || this.#inString) throw new ListSyntaxError("the answer ends too early");
    const rest = JSON.parse(Buffer.concat(this.#rest).toString("utf8")) as unknown;
    if (rest === null || typeof rest !== "object" || Array.isArray(rest)) {
      throw new ListSyntaxError("the answer is not an object");
    }
    return rest as ListMeta;
  }
}
