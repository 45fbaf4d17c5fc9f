// The anchors of benches/ndjson_script.sh: maps every line of an NDJSON file with a script
// mapping's `map(payload, request)`, in one warm isolate or context reused for every event, and
// writes one JSON line per event (the result, or {"error": message}).
//
//   node anchors.mjs isolated-vm|isolated-vm-fresh|vm SCRIPT.js EVENTS.ndjson OUT.ndjson
//
// isolated-vm: a V8 isolate with a 32 MB heap limit; each event is passed as its JSON text,
// parsed and mapped inside the isolate with a 50 ms timeout, its result returned as JSON text.
// isolated-vm-fresh: the same in a new isolate per event (created, the script compiled and run,
// disposed), the anchor of a mapping whose isolation is `fresh`.
// vm: node's vm context (no memory limit), the same per event with a 50 ms timeout.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import vm from "node:vm";

const [kind, scriptPath, eventsPath, outPath] = process.argv.slice(2);
const TIMEOUT_MS = 50;
const MEMORY_MB = 32;
const source = readFileSync(scriptPath, "utf8");
const lines = readFileSync(eventsPath, "utf8").split("\n").filter((l) => l.trim() !== "");
const request = JSON.stringify({ method: "POST", headers: {}, query: {}, receivedAt: new Date().toISOString() });
const RUN = "\n;function __run(body, request) { return JSON.stringify(map(JSON.parse(body), JSON.parse(request))); }";

function isolatedVm() {
  const ivm = createRequire(import.meta.url)("isolated-vm");
  const isolate = new ivm.Isolate({ memoryLimit: MEMORY_MB });
  const context = isolate.createContextSync();
  isolate.compileScriptSync(source + RUN).runSync(context, { timeout: TIMEOUT_MS + 250 });
  const run = context.global.getSync("__run", { reference: true });
  return (line) => run.applySync(undefined, [line, request], { timeout: TIMEOUT_MS });
}

function isolatedVmFresh() {
  const ivm = createRequire(import.meta.url)("isolated-vm");
  return (line) => {
    const isolate = new ivm.Isolate({ memoryLimit: MEMORY_MB });
    try {
      const context = isolate.createContextSync();
      isolate.compileScriptSync(source + RUN).runSync(context, { timeout: TIMEOUT_MS + 250 });
      const run = context.global.getSync("__run", { reference: true });
      return run.applySync(undefined, [line, request], { timeout: TIMEOUT_MS });
    } finally {
      isolate.dispose();
    }
  };
}

function nodeVm() {
  const context = vm.createContext({});
  vm.runInContext(source + RUN, context, { timeout: TIMEOUT_MS + 250 });
  const call = new vm.Script("__run(__body, __request)");
  context.__request = request;
  return (line) => {
    context.__body = line;
    return call.runInContext(context, { timeout: TIMEOUT_MS });
  };
}

const map = { "isolated-vm": isolatedVm, "isolated-vm-fresh": isolatedVmFresh, vm: nodeVm }[kind]();
const out = [];
for (const line of lines) {
  try {
    out.push(map(line));
  } catch (e) {
    out.push(JSON.stringify({ error: String(e && e.message) }));
  }
}
writeFileSync(outPath, out.join("\n") + "\n");
