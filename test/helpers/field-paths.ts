// Type-level list of the field paths an object type declares, used to check hand-written API types
// against a schema: `Record<FieldPaths<T>, true>` forces a test to list every path of `T`, no more.
//
// Paths are dotted JSON names of the leaves of `T`:
// - array fields are written `name[]`, and the walk continues into the element type
//   (`"status.conditions[].type"`; an array of strings is just `"status.synchronizationAddresses[]"`);
// - a path stops at primitives, at `unknown`, at maps (any type with a string index signature, e.g.
//   `Record<string, string>` or `Record<string, unknown>`), at types listed in `Opaque` (compared
//   for exact identity), and at `MaxDepth` levels;
// - `undefined` and `null` are ignored, and unions are walked member by member.

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/** Depth counter: `Prev[N]` is N - 1 (and `never` below 1). */
type Prev = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

type Equals<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;

/** True when `V` is identical to one of the members of `Opaque`. */
type IsOpaque<V, Opaque> = true extends (Opaque extends unknown ? Equals<V, Opaque> : never) ? true : false;

type StopsHere<V, Opaque> = [V] extends [Primitive]
  ? true
  : string extends keyof V
    ? true
    : [keyof V] extends [never]
      ? true
      : IsOpaque<V, Opaque>;

/** The paths below one key `K` whose (non-null) value type is `V`. */
type PathsOf<K extends string, V, Opaque, D extends number> =
  V extends ReadonlyArray<infer E>
    ? unknown extends E
      ? `${K}[]`
      : PathsOf<`${K}[]`, NonNullable<E>, Opaque, D>
    : true extends StopsHere<V, Opaque>
      ? K
      : [Prev[D]] extends [never]
        ? K
        : `${K}.${FieldPaths<V, Opaque, Prev[D]>}`;

/**
 * The union of dotted field paths of `T`.
 * @typeParam Opaque types (matched exactly) whose paths are not expanded, e.g. `ObjectMeta`.
 * @typeParam MaxDepth how many object levels to descend before a path is cut off.
 */
export type FieldPaths<T, Opaque = never, MaxDepth extends number = 12> = {
  [K in keyof T & string]-?: unknown extends T[K] ? K : PathsOf<K, NonNullable<T[K]>, Opaque, MaxDepth>;
}[keyof T & string];
