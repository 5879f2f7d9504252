// The live completion sources: the simulator's scenarios, the kubeconfig's contexts, diagnose's
// failure modes, and names from the cluster. Each loads what it needs on first use (nothing here
// imports the Kubernetes client, yaml or the simulator up front), and each answers [] on any
// failure: a completion prints candidates or nothing, never an error. Cluster lookups share one
// time budget, after which they give up.

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { Context } from "../context.js";
import type { KubeClient } from "../k8s/kube-client.js";
import { kvmigVersion } from "../version.js";
import type { ClusterObjects, ClusterTarget, CompletionSources } from "./candidates.js";

/** How long a completion may wait for the cluster, in all. */
export const clusterBudgetMs = 2000;

async function orNothing(work: () => Promise<string[]>): Promise<string[]> {
  try {
    return await work();
  } catch {
    return [];
  }
}

/** The kubeconfig files that apply, in kubectl's order (as connect.ts reads them). */
export function kubeconfigPaths(kubeconfig: string | undefined, env: Context["env"]): string[] {
  if (kubeconfig) return [kubeconfig];
  const fromEnv = (env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "");
  if (fromEnv.length > 0) return fromEnv;
  return [join(env.HOME ?? homedir(), ".kube", "config")];
}

/** The context names of the kubeconfig files, merged in order; unreadable files are skipped. */
export async function contextNames(paths: readonly string[]): Promise<string[]> {
  // The default export: the bundle loads yaml as CommonJS, whose named exports import() lacks.
  const { default: YAML } = await import("yaml");
  const names: string[] = [];
  for (const path of paths) {
    try {
      const config = YAML.parse(await readFile(path, "utf8")) as { contexts?: unknown } | null;
      const contexts = Array.isArray(config?.contexts) ? config.contexts : [];
      for (const context of contexts as Array<{ name?: unknown } | null>) {
        if (typeof context?.name === "string" && !names.includes(context.name)) names.push(context.name);
      }
    } catch {
      // A missing or broken file adds nothing, as it would add nothing to kubectl's list.
    }
  }
  return names;
}

/** Runs `work` with a signal that aborts after `ms`; past that, answers [] without waiting for it. */
async function withinBudget(ms: number, work: (signal: AbortSignal) => Promise<string[]>): Promise<string[]> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error("completion: out of time"));
      resolve([]);
    }, ms);
  });
  try {
    return await Promise.race([orNothing(() => work(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function sortedNames(items: ReadonlyArray<{ metadata?: { name?: string | undefined } }>): string[] {
  return items
    .map((item) => item.metadata?.name)
    .filter((name): name is string => typeof name === "string" && name !== "")
    .sort();
}

export function liveSources(ctx: Pick<Context, "env" | "clock" | "connect">): CompletionSources {
  const started = performance.now();
  const remaining = () => Math.max(0, clusterBudgetMs - (performance.now() - started));

  const clusterList = (objects: ClusterObjects, target: ClusterTarget) =>
    withinBudget(remaining(), async (signal) => {
      let client: KubeClient | undefined;
      try {
        client = await ctx.connect(
          { ...target, requestTimeoutMs: Math.max(1, Math.round(remaining())) },
          {
            env: ctx.env,
            clock: ctx.clock,
            userAgent: `kvmig/${kvmigVersion} (completion)`,
            signal,
            // A Tab never talks to a credential plugin's login; the budget's end stops the plugin.
            interactive: false,
          },
        );
        const kube = client;
        // Names are all a completion needs: the API server sends each object's metadata only
        // (a namespace of 500 VMIs: about a tenth of the bytes, to send, read and parse).
        const metadataOnly = true;
        switch (objects) {
          case "vmi":
            return sortedNames(await kube.list("vmi", { namespace: kube.namespace, signal, metadataOnly }));
          case "namespace":
            return sortedNames(await kube.list("namespace", { signal, metadataOnly }));
          case "node":
            return sortedNames(await kube.list("node", { signal, metadataOnly }));
        }
      } finally {
        client?.close();
      }
    });

  return {
    scenarios: () =>
      orNothing(async () => {
        const { listScenarios } = await import("../sim/scenario.js");
        return listScenarios().map((s) => s.name);
      }),
    contexts: (kubeconfig) => orNothing(() => contextNames(kubeconfigPaths(kubeconfig, ctx.env))),
    failureModes: () =>
      orNothing(async () => {
        const { ruleCatalog } = await import("../diagnose/registry.js");
        return ruleCatalog().map((rule) => rule.id);
      }),
    cluster: clusterList,
  };
}
