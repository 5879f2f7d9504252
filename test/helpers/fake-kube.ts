// A strict fake KubeClient: a test stubs the verbs it expects; any other call fails the test,
// and so does a stub that was never called (assertDone).
import { ExitCode } from "../../src/errors.js";
import { EvictionRefusedError } from "../../src/k8s/api-errors.js";
import type { KubeClient } from "../../src/k8s/kube-client.js";

type Verbs = Omit<KubeClient, "server" | "context" | "namespace">;

export interface FakeKube extends KubeClient {
  readonly calls: string[];
  assertDone(): void;
}

export function fakeKube(
  stubs: Partial<Verbs>,
  identity: { server?: string; context?: string; namespace?: string } = {},
): FakeKube {
  const calls: string[] = [];
  const used = new Set<string>();
  const base = {
    server: identity.server ?? "https://127.0.0.1:6443",
    context: identity.context ?? "fake",
    namespace: identity.namespace ?? "default",
    calls,
    close: () => {},
    assertDone: () => {
      const unused = Object.keys(stubs).filter((name) => !used.has(name));
      if (unused.length > 0) throw new Error(`stubbed but never called: ${unused.join(", ")}`);
    },
  };
  return new Proxy(base, {
    get(target, property, receiver) {
      if (typeof property !== "string") return Reflect.get(target, property, receiver);
      const stub = (stubs as Record<string, unknown>)[property];
      if (typeof stub === "function") {
        return (...args: unknown[]) => {
          calls.push(property);
          used.add(property);
          return (stub as (...a: unknown[]) => unknown)(...args);
        };
      }
      if (property in target) return Reflect.get(target, property, receiver);
      if (property === "then") return undefined;
      return () => {
        throw new Error(`unexpected call to kube.${property}()`);
      };
    },
  }) as unknown as FakeKube;
}

/**
 * What evictPod rejects with when the eviction is refused (HTTP 429), for a stub to throw:
 * KubeVirt's eviction webhook by default, or any server message (a PodDisruptionBudget's).
 */
export function evictionRefused(
  message = 'admission webhook "virt-launcher-eviction-interceptor.kubevirt.io" denied the request: Eviction triggered evacuation of VMI "default/vm"',
): EvictionRefusedError {
  return new EvictionRefusedError(message, 429, undefined, ExitCode.operationFailed, {
    hint: "the pod may not be evicted now; ask again later",
  });
}
