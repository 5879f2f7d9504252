// `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's log as the kubelet serves it
// through the API server, once or followed, with the kubelet's errors for a missing or
// unstarted container.

import type { ServerResponse } from "node:http";
import { queryFlag, queryInt } from "./http.js";
import { formatLogLine, type LogStore } from "./logs.js";
import { badRequest } from "./status.js";
import type { SimObject, Store } from "./store.js";

interface Container {
  name: string;
}

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: object };
}

interface PodShape {
  spec?: { containers?: Container[]; initContainers?: Container[] };
  status?: {
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

function chooseContainer(pod: SimObject, asked: string | null): string {
  const shape = pod as unknown as PodShape;
  const containers = (shape.spec?.containers ?? []).map((c) => c.name);
  const inits = (shape.spec?.initContainers ?? []).map((c) => c.name);
  const name = pod.metadata.name ?? "";
  if (asked) {
    if (!containers.includes(asked) && !inits.includes(asked)) {
      throw badRequest(`container ${asked} is not valid for pod ${name}`);
    }
    return asked;
  }
  if (containers.length === 1 && containers[0]) return containers[0];
  const initPart = inits.length > 0 ? ` or one of the init containers: [${inits.join(" ")}]` : "";
  throw badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]${initPart}`,
  );
}

/** Faults of a followed log (api-faults.ts): lines paced, or the stream cut short. */
export interface LogFollowFaults {
  /** Wall milliseconds at least between two lines. */
  lineDelayMs?: number | undefined;
  /** The stream ends (cleanly) after this many lines. */
  maxLines?: number | undefined;
  /** Told when the followed stream starts. */
  started?: (() => void) | undefined;
  /** Told when `maxLines` cut the stream short. */
  truncated?: (() => void) | undefined;
}

export function servePodLog(
  pod: SimObject,
  params: URLSearchParams,
  res: ServerResponse,
  store: Store,
  logs: LogStore,
  now: () => number,
  followFaults?: LogFollowFaults,
): void {
  const namespace = pod.metadata.namespace ?? "";
  const name = pod.metadata.name ?? "";
  const container = chooseContainer(pod, params.get("container"));
  const statuses = (pod as unknown as PodShape).status;
  const status = [...(statuses?.containerStatuses ?? []), ...(statuses?.initContainerStatuses ?? [])].find(
    (s) => s.name === container,
  );
  const waiting = status?.state?.waiting;
  if (waiting || status === undefined) {
    throw badRequest(
      `container "${container}" in pod "${name}" is waiting to start: ${waiting?.reason ?? "ContainerCreating"}`,
    );
  }
  if (queryFlag(params.get("previous"))) {
    throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  }
  const timestamps = queryFlag(params.get("timestamps"));
  const follow = queryFlag(params.get("follow"));
  const tailLines = queryInt(params, "tailLines");
  const sinceSeconds = queryInt(params, "sinceSeconds");
  const sinceTime = params.get("sinceTime");
  let since: number | undefined;
  if (sinceTime) {
    since = Date.parse(sinceTime);
    if (Number.isNaN(since))
      throw badRequest(`parsing time "${sinceTime}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
  } else if (sinceSeconds !== undefined) {
    if (sinceSeconds < 1) throw badRequest("sinceSeconds: Invalid value: must be greater than 0");
    since = now() - sinceSeconds * 1000;
  }
  let budget = queryInt(params, "limitBytes") ?? Number.POSITIVE_INFINITY;

  res.writeHead(200, {
    "Content-Type": "text/plain",
    "Cache-Control": "no-cache, private",
    "Transfer-Encoding": "chunked",
  });
  const send = (text: string): boolean => {
    if (budget <= 0) return false;
    const bytes = Buffer.from(text);
    const part = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
    budget -= part.length;
    res.write(part);
    return budget > 0;
  };
  // Lines go out through a queue: at once, unless faults pace a followed log or cut it short.
  const faults = follow ? followFaults : undefined;
  faults?.started?.();
  const lineDelayMs = faults?.lineDelayMs ?? 0;
  const queue: string[] = [];
  let written = 0;
  let nextAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let ending = false;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    res.end();
  };
  const pump = () => {
    timer = undefined;
    while (!done && queue.length > 0) {
      const wait = nextAt - Date.now();
      if (wait > 0) {
        timer = setTimeout(pump, wait);
        return;
      }
      if (!send(queue.shift() as string)) {
        finish();
        return;
      }
      written++;
      if (faults?.maxLines !== undefined && written >= faults.maxLines) {
        faults.truncated?.();
        finish();
        return;
      }
      if (lineDelayMs > 0) nextAt = Date.now() + lineDelayMs;
    }
    if (ending) finish();
  };
  const emit = (text: string) => {
    if (done) return;
    queue.push(text);
    if (timer === undefined) pump();
  };
  const close = () => {
    ending = true;
    if (timer === undefined) pump();
  };
  for (const line of logs.read(namespace, name, container, { tailLines, since })) {
    emit(formatLogLine(line, timestamps));
    if (done) return;
  }
  if (!follow) {
    close();
    return;
  }
  res.flushHeaders();
  const stopFollowing = logs.follow(namespace, name, container, (line) => {
    if (line === undefined) close();
    else emit(formatLogLine(line, timestamps));
  });
  // The log of a deleted pod ends with it.
  const unsubscribe = store.subscribe((change) => {
    if (
      change.type === "DELETED" &&
      change.storage === "pods" &&
      change.object.metadata.uid === pod.metadata.uid
    ) {
      finish();
    }
  });
  const stop = () => {
    stopFollowing();
    unsubscribe();
    clearTimeout(timer);
    done = true;
  };
  res.on("close", stop);
  res.on("finish", stop);
}
