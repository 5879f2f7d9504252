// kvmig's fish completion typed into a real interactive fish under tmux (completion-shells.ts): the
// same cases as bash and zsh, beside fish's own complete -C queries in completion-fish.test.ts.
import { interactiveCompletionTests } from "./completion-shells.js";

interactiveCompletionTests("fish");
