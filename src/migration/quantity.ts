// Kubernetes resource quantities ("8Gi", "500m", "1e3", "2"), as the scheduler compares them:
// pre-flight weighs a target pod's requests against what a node has left, so it must read every
// form the API server writes, and print the amounts the way `kubectl describe node` does.

const suffixes: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity in its base unit (bytes, cores, devices); undefined when it is not one. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) ? text : undefined;
  if (typeof text !== "string") return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    text.trim(),
  );
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const base = Number(number);
  if (exponent) return base * 10 ** Number(exponent.slice(1));
  return base * (suffixes[suffix ?? ""] ?? 1);
}

const binaryUnits = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

/** Bytes in the largest binary unit that keeps a whole part: 3.1Gi, 512Mi, 0. */
export function formatBytesQuantity(bytes: number): string {
  if (bytes <= 0) return "0";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < binaryUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value >= 100 || Number.isInteger(value) ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown}${binaryUnits[unit]}`;
}

/** Cores as kubectl writes CPU amounts: whole cores, else millicores (1500m). */
export function formatCpuQuantity(cores: number): string {
  if (cores <= 0) return "0";
  if (Number.isInteger(cores)) return String(cores);
  return `${Math.round(cores * 1000)}m`;
}
