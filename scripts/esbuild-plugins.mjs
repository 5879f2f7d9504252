// The esbuild plugins of both builds: dist/ (scripts/build.mjs) and the single executables
// (scripts/sea.mjs).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** commander's import of node:child_process, replaced by a stub (see the stub's comment). */
export const commanderWithoutChildProcess = {
  name: "commander-without-child-process",
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: fileURLToPath(new URL("stubs/commander-child-process.mjs", import.meta.url)) }
        : undefined,
    );
  },
};
/**
 * The Kubernetes client's KubeConfig without what only its API clients and fetch use (undici and
 * the generated API), replaced by a stub (see the stub's comment). kubeconfig-full.ts imports KubeConfig
 * from dist/config.js, not the package's index, which loads every API, watch, exec and cp too.
 */
export const kubeConfigOnly = {
  name: "kubeconfig-only",
  setup(build) {
    const stub = fileURLToPath(new URL("stubs/client-node-unused.mjs", import.meta.url));
    build.onResolve({ filter: /^(undici|\.\/gen\/index\.js)$/ }, (args) =>
      /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/.test(args.importer)
        ? { path: stub }
        : undefined,
    );
  },
};

/**
 * One YAML parser in the bundle: js-yaml, which the Kubernetes client's KubeConfig imports, is
 * replaced by a shim over the `yaml` package (see the shim's comment). js-yaml was 46 KiB of the
 * client's chunk beside the `yaml` package's 112 KiB chunk that kvmig loads for YAML anyway.
 */
export const oneYamlParser = {
  name: "one-yaml-parser",
  setup(build) {
    const shim = fileURLToPath(new URL("stubs/js-yaml-over-yaml.mjs", import.meta.url));
    build.onResolve({ filter: /^js-yaml$/ }, (args) =>
      /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/.test(args.importer)
        ? { path: shim }
        : undefined,
    );
  },
};

/**
 * commander's Option constructor tests every option's flags against /\p{ID_Continue}\.\.\.[>\]]$/u
 * (is it variadic?), and compiling that Unicode-property expression is about 0.5 ms of every
 * start (the whole command tree's options are made for each run). The same test, asked first
 * whether the flags end in "...>" or "...]" at all: the expression is compiled only for a
 * variadic option, and the answer is the same for every flags string.
 */
export const commanderCheapVariadicTest = {
  name: "commander-cheap-variadic-test",
  setup(build) {
    const expression = String.raw`/\p{ID_Continue}\.\.\.[>\]]$/u.test(flags)`;
    build.onLoad({ filter: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]option\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes(expression)) {
        throw new Error(
          `commander's lib/option.js no longer has ${expression}: see commanderCheapVariadicTest in scripts/esbuild-plugins.mjs`,
        );
      }
      const cheap = `((flags.endsWith("...>") || flags.endsWith("...]")) && ${expression})`;
      return { contents: source.replace(expression, cheap), loader: "js" };
    });
  },
};
