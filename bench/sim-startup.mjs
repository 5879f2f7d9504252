// Start-up of the simulated cluster: wall time from spawning `kvmig sim` until it prints its
// `export KUBECONFIG=` line (CA and certificate made, seed loaded, port bound), and until the
// first request answers. RUNS times (default 10). Run with `npm run bench:sim` after `npm run build`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { performance } from "node:perf_hooks";
import { parse } from "yaml";

const runs = Number(process.env.RUNS ?? 10);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function firstAnswer(kubeconfig) {
  const config = parse(readFileSync(kubeconfig, "utf8"));
  const cluster = config.clusters[0].cluster;
  const token = config.users[0].user.token;
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.server}/apis/kubevirt.io/v1/virtualmachineinstances`, {
      ca: Buffer.from(cluster["certificate-authority-data"], "base64"),
      headers: { Authorization: `Bearer ${token}` },
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function once() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["dist/kvmig.js", "sim", "--port", "0"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", async (chunk) => {
      out += chunk;
      const match = /^export KUBECONFIG=(.+)$/m.exec(out);
      if (!match || child.readyAt) return;
      child.readyAt = performance.now() - started;
      try {
        await firstAnswer(match[1]);
        const answered = performance.now() - started;
        child.kill("SIGINT");
        child.on("close", (code) =>
          code === 0 ? resolve({ ready: child.readyAt, answered }) : reject(new Error(`exit ${code}`)),
        );
      } catch (error) {
        child.kill("SIGKILL");
        reject(error);
      }
    });
  });
}

await once(); // warm-up
const ready = [];
const answered = [];
for (let i = 0; i < runs; i++) {
  const result = await once();
  ready.push(result.ready);
  answered.push(result.answered);
}
console.log(`node ${process.version}, ${runs} runs, median (max) wall time from spawn`);
console.log(
  `kvmig sim: kubeconfig printed  ${median(ready).toFixed(1).padStart(7)} ms (${Math.max(...ready).toFixed(1)})`,
);
console.log(
  `kvmig sim: first list answered ${median(answered).toFixed(1).padStart(7)} ms (${Math.max(...answered).toFixed(1)})`,
);
