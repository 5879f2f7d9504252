// Counting words in messages: "1 VM", "3 VMs", "2 free slots".

/** `n` and the word, singular for 1, else the plural (the word and an "s" unless given). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
