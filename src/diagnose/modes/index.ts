// Every failure-mode rule, one file each. Add a rule by importing it here; the registry takes
// them from this list, and the order here does not matter (output is sorted).

import type { Rule } from "../types.js";

export const allRules: readonly Rule[] = [];
