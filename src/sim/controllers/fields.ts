// Reading fields deep in plain objects, without a type for each shape.

/** A field deep in an object, read without a type for each shape. */
export function dig(object: unknown, ...path: string[]): unknown {
  let value = object;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function str(object: unknown, ...path: string[]): string | undefined {
  const value = dig(object, ...path);
  return typeof value === "string" ? value : undefined;
}
