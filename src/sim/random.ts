// A small seeded pseudo-random generator for the simulated cluster: the same seed gives the same
// uids, pod name suffixes, addresses and timings, so a scenario replays byte for byte.
//
// The core is a 32-bit "add a Weyl constant, then mix" generator (the mulberry32 construction);
// seeds are first scrambled so that neighbouring seeds (1, 2, 3, ...) give unrelated streams.

/** The alphabet of Kubernetes' generateName suffixes (k8s.io/apimachinery/pkg/util/rand): no vowels, no 0/1/3. */
const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

const hexDigits = "0123456789abcdef";

/** Scrambles a 32-bit value (the murmur3 finaliser), so that close inputs give distant outputs. */
function scramble(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string: a cheap, stable 32-bit hash for labels. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

export class Random {
  /** The state as seeded, before any draw: what `derive` starts from. */
  private readonly origin: number;
  private state: number;

  constructor(seed: number) {
    // Non-integer or huge seeds are folded into 32 bits rather than rejected.
    const folded = Number.isFinite(seed) ? Math.trunc(seed) % 0x1_0000_0000 : 0;
    this.origin = scramble(folded ^ 0x9e3779b9);
    this.state = this.origin;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    const lo = Math.ceil(Math.min(min, max));
    const hi = Math.floor(Math.max(min, max));
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** One of the items; throws on an empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Random.pick: no items to pick from");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** `n` lower-case hex digits. */
  hex(n: number): string {
    let out = "";
    for (let i = 0; i < n; i++) out += hexDigits[Math.floor(this.next() * 16)];
    return out;
  }

  /** A UID in the RFC 4122 version 4 shape, lower case: `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`. */
  uid(): string {
    const variant = hexDigits[8 + Math.floor(this.next() * 4)];
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }

  /** A generateName-style suffix, e.g. `x7k2q`. */
  suffix(n = 5): string {
    let out = "";
    for (let i = 0; i < n; i++) out += suffixAlphabet[Math.floor(this.next() * suffixAlphabet.length)];
    return out;
  }

  /**
   * An independent generator derived from this one's seed and a label, without consuming from
   * this stream: objects built from `derive("vm/demo/fedora-web")` keep their uids when other
   * objects are added to or removed from a scenario.
   */
  derive(label: string): Random {
    return new Random(scramble(this.origin ^ hashString(label)));
  }
}
