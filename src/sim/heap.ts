// A full garbage collection, once, after a large scenario is built: stamping 50,000 VMs leaves
// hundreds of MB of intermediate strings and objects behind, and V8's first major collection of
// them, left to itself, came seconds later as a pause of 1-2 s on a 1.2 GB heap, in the middle
// of serving. Collected before the API server listens, it costs start-up time instead.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Objects in a seed from which the collection pays for itself (the scale scenario's sizes). */
export const collectAfterObjects = 20_000;

export function collectGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    // Without --expose-gc: the flag, then a context created after it, which has `gc`.
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
