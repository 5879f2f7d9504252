// The JavaScript heap of a large simulated cluster. Stamping 50,000 VMs leaves hundreds of MB of
// intermediate strings and objects behind, and V8's first major collection of them, left to
// itself, came seconds later as a pause of 1-2 s in the middle of serving. So once such a seed is
// loaded:
// - one full collection at once, before the API server listens: start-up time instead;
// - no memory-reducer collections. After a major collection, V8's memory reducer schedules two
//   more about 8 s later if the process then allocates little (an API server between requests),
//   to give memory back; each marks the whole heap again, about 0.8 s of main-thread work on a
//   1 GB heap, and they were the slowest answers left at 50,000 VMs (200-600 ms). Collections
//   when the heap grows stay as they are; only the shrinking after them goes.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Objects in a seed from which this pays for itself (the scale scenario's sizes). */
export const largeSeedObjects = 20_000;

export function settleLargeHeap(): void {
  // Read at each memory-reducer step (MaxNumberOfGCs): with 0 it ends without collecting.
  setFlagsFromString("--memory-reducer-gc-count=0");
  let gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    // Without --expose-gc: the flag, then a context created after it, which has `gc`.
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
