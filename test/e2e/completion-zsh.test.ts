// kvmig's zsh completion for real: an interactive zsh (compinit, then the script `kvmig completion
// zsh` prints) under tmux, typed into and read from the screen (completion-shells.ts).
import { interactiveCompletionTests } from "./completion-shells.js";

interactiveCompletionTests("zsh");
