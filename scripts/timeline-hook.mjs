// Preloaded by scripts/timeline.mjs (node --import), never by kvmig itself: kvmig runs no code of
// this when the timeline is off. Writes one line per mark, `<ms since process start> <label>`, to
// the file $KVMIG_TIMELINE_FILE (with the CPU time used so far): each module file read, the kubeconfig read, each connection's TCP
// and TLS handshake, each request sent and answered (headers, then body), the first output and
// the exit. Node's own diagnostics channels report the connections and requests; fs and stdout
// are wrapped.

import diagnostics from "node:diagnostics_channel";
// Preloaded by scripts/timeline.mjs (node --import), never by kvmig itself: kvmig runs no code of
// this when the timeline is off. Writes one line per mark, `<ms since process start> <label>`, to
// the file $KVMIG_TIMELINE_FILE (with the CPU time used so far): each module file read, the kubeconfig read, each connection's TCP
// and TLS handshake, each request sent and answered (headers, then body), the first output and
// the exit. Node's own diagnostics channels report the connections and requests; fs and stdout
// are wrapped.
import fs, { appendFileSync, writeFileSync } from "node:fs";
import fsp from "node:fs/promises";
import { registerHooks } from "node:module";
import { basename } from "node:path";

const file = process.env.KVMIG_TIMELINE_FILE;
const lines = [];
// Wall time since the process started, and the process's CPU time (user + system, all threads).
const mark = (label) => {
  const { user, system } = process.cpuUsage();
  lines.push(`${performance.now().toFixed(2)} ${((user + system) / 1000).toFixed(2)} ${label}`);
};
mark("node ready (preload runs)");

// A chunk's name without its content hash: run-LXSYFN2V.js -> run.js.
const moduleName = (url) => basename(url).replace(/-[A-Z0-9]{8}(\.js)$/, "$1");
registerHooks({
  load(url, context, next) {
    const result = next(url, context);
    if (url.startsWith("file:")) mark(`module read ${moduleName(url)}`);
    return result;
  },
});

const kubeconfig = process.env.KUBECONFIG;
const isKubeconfig = (path) => kubeconfig !== undefined && String(path) === kubeconfig;
const readFileSync = fs.readFileSync;
fs.readFileSync = function (path, ...rest) {
  const result = readFileSync.call(this, path, ...rest);
  if (isKubeconfig(path)) mark("kubeconfig read");
  return result;
};
const readFile = fsp.readFile;
fsp.readFile = async function (path, ...rest) {
  const result = await readFile.call(this, path, ...rest);
  if (isKubeconfig(path)) mark("kubeconfig read");
  return result;
};

let connections = 0;
diagnostics.subscribe("net.client.socket", ({ socket }) => {
  const n = ++connections;
  mark(`connection ${n}: TCP connecting`);
  socket.once("connect", () => mark(`connection ${n}: TCP connected`));
  socket.once("secureConnect", () =>
    mark(`connection ${n}: TLS connected${socket.isSessionReused?.() ? " (session resumed)" : ""}`),
  );
});
let requests = 0;
const numbers = new WeakMap();
diagnostics.subscribe("http.client.request.start", ({ request }) => {
  const n = ++requests;
  numbers.set(request, n);
  mark(`request ${n} sent: ${request.method} ${request.path.split("?")[0]}`);
});
diagnostics.subscribe("http.client.response.finish", ({ request, response }) => {
  const n = numbers.get(request);
  mark(`request ${n} answered: ${response.statusCode}`);
  response.once("end", () => mark(`request ${n} body read`));
});

const write = process.stdout.write;
let written = false;
process.stdout.write = function (...args) {
  if (!written) {
    written = true;
    mark("first output written");
  }
  return write.apply(this, args);
};
process.on("exit", () => {
  mark("exit");
  if (file) appendFileSync(file, `${lines.join("\n")}\n`);
  else writeFileSync(2, `${lines.join("\n")}\n`);
});
