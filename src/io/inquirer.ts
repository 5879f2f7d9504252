// The inquirer prompts kvmig asks with, and only those: the @inquirer/prompts collection also
// brings the editor prompt, whose external-editor support bundles iconv-lite's code pages
// (about 530 KiB of a 580 KiB chunk). prompter-impl.ts loads this module with import() on the
// first question, so it is one chunk of its own (dist/chunks/inquirer-*.js).
export { default as checkbox } from "@inquirer/checkbox";
export { default as confirm } from "@inquirer/confirm";
export { default as input } from "@inquirer/input";
export { default as search } from "@inquirer/search";
export { default as select } from "@inquirer/select";
