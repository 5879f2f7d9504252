// The single executable of this machine's platform (scripts/sea.mjs), built once per bench run
// into the bench's temp dir (a few seconds) and measured by every group with a row for it:
// start-up, versions from the cluster, cluster commands. Undefined where there is none to build.
import { join } from "node:path";
import { buildExecutable, bundleForSea, hostTarget, targets } from "../../scripts/sea.mjs";

const built = new WeakMap();

/** The path of the executable, built on the first call of a bench run (ctx). */
export function singleExecutable(ctx) {
  if (!built.has(ctx)) built.set(ctx, build(ctx));
  return built.get(ctx);
}

async function build(ctx) {
  const name = hostTarget();
  if (!(name in targets)) return undefined;
  ctx.log(`building the ${name} single executable`);
  const dir = join(ctx.tmp, "sea");
  const bundle = await bundleForSea(ctx.root, join(dir, "bundle"));
  const file = join(dir, "kubectl-kvmig");
  await buildExecutable(name, bundle, file, { work: join(dir, "work"), log: ctx.log });
  return file;
}
