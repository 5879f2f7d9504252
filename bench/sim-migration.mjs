// The simulated cluster at speed: wall time for `kvmig sim --speed 20` to migrate the default
// scenario's 4 GiB VM (fedora-web) from the migrate call to VMIM Succeeded, and how long a
// `scale` cluster of VMS VMIs (default 10,000) takes to start. Run with `npm run bench:sim-migration`
// after `npm run build`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { performance } from "node:perf_hooks";
import { parse } from "yaml";

const vms = Number(process.env.VMS ?? 10_000);

function start(args) {
  const started = performance.now();
  const child = spawn(process.execPath, ["dist/kvmig.js", "sim", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("close", (code) => reject(new Error(`kvmig sim exited ${code}`)));
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /^export KUBECONFIG=(.+)$/m.exec(out);
      if (match) resolve({ child, kubeconfig: match[1], readyMs: performance.now() - started });
    });
  });
}

function client(kubeconfig) {
  const config = parse(readFileSync(kubeconfig, "utf8"));
  const cluster = config.clusters[0].cluster;
  const ca = Buffer.from(cluster["certificate-authority-data"], "base64");
  const token = config.users[0].user.token;
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${cluster.server}${path}`, {
        method,
        ca,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(text ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) } : {}),
        },
      });
      req.on("response", (res) => {
        let data = "";
        res.on("data", (c) => (data += c));
        res.on("end", () => resolve({ status: res.statusCode, json: data ? JSON.parse(data) : undefined }));
      });
      req.on("error", reject);
      req.end(text);
    });
}

async function stop(child) {
  child.removeAllListeners("close");
  const closed = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGINT");
  await closed;
}

const sim = await start(["--speed", "20"]);
const call = client(sim.kubeconfig);
const began = performance.now();
const migrate = await call(
  "PUT",
  "/apis/subresources.kubevirt.io/v1/namespaces/demo/virtualmachines/fedora-web/migrate",
  {},
);
if (migrate.status !== 202) throw new Error(`migrate: ${migrate.status}`);
let phase = "";
let simulated = "";
while (phase !== "Succeeded" && phase !== "Failed") {
  await new Promise((resolve) => setTimeout(resolve, 25));
  const list = await call("GET", "/apis/kubevirt.io/v1/namespaces/demo/virtualmachineinstancemigrations");
  const vmim = list.json.items[0];
  phase = vmim?.status?.phase ?? "";
  const stamps = vmim?.status?.phaseTransitionTimestamps ?? [];
  if (stamps.length > 1)
    simulated = `${(Date.parse(stamps.at(-1).phaseTransitionTimestamp) - Date.parse(stamps[0].phaseTransitionTimestamp)) / 1000} s`;
}
const wall = performance.now() - began;
await stop(sim.child);
console.log(`node ${process.version}`);
console.log(
  `4 GiB VM at --speed 20: ${phase} after ${(wall / 1000).toFixed(2)} s wall (${simulated} simulated, Pending to final)`,
);

const scale = await start(["--scenario", "scale", "--vms", String(vms)]);
const scaleCall = client(scale.kubeconfig);
const vmis = await scaleCall("GET", "/apis/kubevirt.io/v1/virtualmachineinstances?limit=1");
const total = (vmis.json.metadata.remainingItemCount ?? 0) + vmis.json.items.length;
await stop(scale.child);
console.log(
  `scale --vms ${vms}: ready (kubeconfig printed) after ${(scale.readyMs / 1000).toFixed(2)} s wall, ${total} VMIs served`,
);
