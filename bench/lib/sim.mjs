// The simulated cluster as the bench uses it: `node dist/kvmig.js sim` in a child process of its
// own (so its CPU never counts for a client), its kubeconfig, a small HTTPS client for setting
// up (migrations, patches) and for the list-throughput case, and its CPU and memory from /proc.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { parse } from "yaml";
import { procStats, track } from "./measure.mjs";

/**
 * `starts` starts of the simulated cluster (startSim(ctx, args, name)), each measured by
 * `measure(sim)` and then stopped; `log(i)` says which start runs. The first start warms the file
 * cache, as the other cases' warm-up runs do: its sample counts only when it is the only start.
 */
export async function simStartSamples(ctx, { starts, args = [], name, log, measure }) {
  const samples = [];
  for (let i = 0; i < starts; i++) {
    ctx.log(log(i));
    const sim = await startSim(ctx, args, name);
    try {
      const sample = await measure(sim);
      if (i > 0 || starts === 1) samples.push(sample);
    } finally {
      await sim.stop();
    }
  }
  return samples;
}

/**
 * Starts `kvmig sim --port 0 ...args` and resolves once it has printed its `export KUBECONFIG=`
 * line: `readyMs` is the wall time from spawn to that line, `atReady` its CPU and memory then.
 */
export async function startSim(ctx, args, name = "sim") {
  const kubeconfig = join(ctx.tmp, `${name}-${Date.now()}.kubeconfig`);
  const started = process.hrtime.bigint();
  const child = track(
    spawn(
      process.execPath,
      [ctx.distEntry, "sim", "--port", "0", "--kubeconfig-out", kubeconfig, "--seed", "1", ...args],
      { cwd: ctx.root, env: ctx.env(), stdio: ["ignore", "pipe", "pipe"] },
    ),
    false,
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-16_384);
  });
  const readyMs = await new Promise((resolve, reject) => {
    const onClose = (code) =>
      reject(new Error(`kvmig sim ${args.join(" ")} exited ${code}\n${stderr.trim()}`));
    child.once("close", onClose);
    child.once("error", reject);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (/^export KUBECONFIG=/m.test(stdout)) {
        child.off("close", onClose);
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      }
    });
  });
  const atReady = procStats(child.pid);
  const closed = new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  const call = client(kubeconfig);
  return {
    child,
    kubeconfig,
    readyMs,
    atReady,
    call,
    stats: () => procStats(child.pid),
    /** Stops it with SIGINT (exit 0 expected); resolves with its exit. */
    async stop() {
      call.close();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      const result = await closed;
      if (result.code !== 0) throw new Error(`kvmig sim exited ${result.code ?? result.signal}\n${stderr}`);
      return result;
    },
  };
}

/**
 * An HTTPS client for the kubeconfig's cluster and first user. `call(method, path, body)`
 * resolves with the status, and the body parsed as JSON unless `raw` (then only its size and
 * its first 4 KiB, for the list metadata).
 */
export function client(kubeconfig) {
  const config = parse(readFileSync(kubeconfig, "utf8"));
  const cluster = config.clusters[0].cluster;
  const token = config.users[0].user.token;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: Buffer.from(cluster["certificate-authority-data"], "base64"),
  });
  const call = (method, path, body, { raw = false, contentType = "application/json" } = {}) =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${cluster.server}${path}`, {
        method,
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(text ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) } : {}),
        },
      });
      req.on("response", (res) => {
        const chunks = [];
        let bytes = 0;
        let head = "";
        res.on("data", (chunk) => {
          bytes += chunk.length;
          if (raw) {
            if (head.length < 4096) head += chunk.toString("utf8", 0, Math.min(chunk.length, 4096));
          } else chunks.push(chunk);
        });
        res.on("end", () => {
          const data = raw ? undefined : Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = data ? JSON.parse(data) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, json, bytes, head, text: data });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(text);
    });
  call.close = () => agent.destroy();
  return call;
}

/**
 * A whole list, read 500 at a time as kubectl and kvmig do. Parsed: the items. `raw`: only the
 * bytes, the pages and the total (the first page's 500 plus its remainingItemCount), so that the
 * bench spends no time parsing what it measures the server for.
 */
export async function listAll(call, path, { raw = false } = {}) {
  const items = [];
  let bytes = 0;
  let pages = 0;
  let token = "";
  let total = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const next = token ? `&continue=${encodeURIComponent(token)}` : "";
    const page = await call("GET", `${path}${sep}limit=500${next}`, undefined, { raw });
    if (page.status !== 200) throw new Error(`GET ${path}: ${page.status}`);
    pages++;
    bytes += page.bytes;
    if (raw) {
      // The list's metadata comes before its items: {"kind":...,"metadata":{"continue":...},"items":[
      token = /"continue":"([^"]*)"/.exec(page.head)?.[1] ?? "";
      const remaining = /"remainingItemCount":(\d+)/.exec(page.head)?.[1];
      if (pages === 1) total = token && remaining !== undefined ? 500 + Number(remaining) : null;
    } else {
      items.push(...page.json.items);
      token = page.json.metadata?.continue ?? "";
    }
  } while (token);
  return { items, total: raw ? total : items.length, bytes, pages };
}
