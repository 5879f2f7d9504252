// Sorting text: by UTF-16 code units, as Go's sort.Strings orders bytes for the ASCII names,
// keys and timestamps kvmig sorts (kubectl and KubeVirt sort them that way too). Not
// localeCompare: its first call in a process loads ICU's collation data, 5-7 ms of CPU that a
// short command such as migrate --dry-run paid for ordering a few node names.

/** A comparator for sort(): a before b when a's code units come first. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
