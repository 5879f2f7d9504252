// kvmig's bash completion typed into a real interactive bash under tmux (completion-shells.ts):
// what readline does with the candidates (inserting, quoting, listing), beyond the calls of the
// completion function in completion.test.ts.
import { interactiveCompletionTests } from "./completion-shells.js";

interactiveCompletionTests("bash");
