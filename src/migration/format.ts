// Numbers as an operator reads them: binary sizes, rates, and a one-line sparkline.

const units = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 4294967296 → "4.0 GiB"; 0 → "0 B". */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  // 1048575 B is "1.0 MiB", not "1024 KiB": move up when rounding would reach the next unit.
  while (value >= 1023.95 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * A rate known only to a step (at least `low`, less than `low + step`): "95.4–103 MiB/s", or
 * "< 7.6 MiB/s" from zero. Without a step, the rate itself.
 */
export function formatRateWithin(low: number, step: number | undefined): string {
  if (step === undefined) return formatRate(low);
  if (low <= 0) return `< ${formatRate(step)}`;
  const [fromNumber, fromUnit] = formatBytes(low).split(" ");
  const [toNumber, toUnit] = formatBytes(low + step).split(" ");
  return fromUnit === toUnit
    ? `${fromNumber}–${toNumber} ${toUnit}/s`
    : `${formatRate(low)}–${formatRate(low + step)}`;
}

const bars = "▁▂▃▄▅▆▇█";

/**
 * The values as block characters, highest = █, zero = ▁; at most `width` characters, taking
 * evenly spaced samples (always the first and the last) when there are more values.
 */
export function sparkline(values: readonly number[], width = 32): string {
  if (values.length === 0) return "";
  const picked =
    width < 2
      ? values.slice(-1)
      : values.length <= width
        ? values
        : Array.from(
            { length: width },
            (_, i) => values[Math.round((i * (values.length - 1)) / (width - 1))] ?? 0,
          );
  const max = Math.max(...picked);
  if (max <= 0) return bars[0]?.repeat(picked.length) ?? "";
  return picked.map((v) => bars[Math.round((Math.max(0, v) / max) * (bars.length - 1))] ?? "").join("");
}
