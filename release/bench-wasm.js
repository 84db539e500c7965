'use strict';
// The WebAssembly fallback's fire() cost next to the native engine's and
// opossum's, in one process and one run (release/ owns this; the settings
// are node/bench/bench.js's (a) and (c)). fusewire is loaded twice: once as
// usual (native), once with NAPI_RS_FORCE_WASI=error and a fresh module cache
// (the WebAssembly engine, copied next to node/ from `make dist`'s staging
// folder for the run and removed after).
//   make dist && node release/bench-wasm.js          prints a markdown table
const path = require('node:path');
const os = require('node:os');
const nodeDir = path.join(__dirname, '..', 'node');
const { createRequire } = require('node:module');
const req = createRequire(path.join(nodeDir, 'package.json'));

const fs = require('node:fs');
const staged = path.join(__dirname, '..', 'target', 'dist-stage', 'npm', 'fusewire', 'npm', 'wasm32-wasi');
const WASM_FILES = ['fusewire.wasi.cjs', 'fusewire.wasm32-wasi.wasm', 'wasi-worker.mjs'];
for (const f of WASM_FILES) fs.copyFileSync(path.join(staged, f), path.join(nodeDir, f));
process.on('exit', () => { for (const f of WASM_FILES) fs.rmSync(path.join(nodeDir, f), { force: true }); });
const native = req(nodeDir);
const nativeKind = req(path.join(nodeDir, 'lib/native.js')).engine.kind;
for (const k of Object.keys(require.cache)) if (k.startsWith(nodeDir + path.sep) && !k.includes('node_modules')) delete require.cache[k];
process.env.NAPI_RS_FORCE_WASI = 'error';
const wasm = req(nodeDir);
const wasmKind = req(path.join(nodeDir, 'lib/native.js')).engine.kind;
delete process.env.NAPI_RS_FORCE_WASI;
if (nativeKind !== 'native' || wasmKind !== 'wasm') throw new Error(`engines: ${nativeKind}, ${wasmKind}`);
const opossum = req('opossum');

const ROUNDS = Number(process.env.ROUNDS || 5);
const ROUND_MS = Number(process.env.ROUND_MS || 700);
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const resolved = async () => 1;
const IMPLS = {
  'fusewire (native)': () => new native(resolved),
  'fusewire (WebAssembly)': () => new wasm(resolved),
  opossum: () => new opossum(resolved),
  'floor (bare async wrapper)': () => ({ fire: async (...a) => await resolved(...a), shutdown () {} })
};

async function oneByOne (make) {
  const other = setTimeout(() => {}, 1e9);
  const b = make();
  const end = performance.now() + ROUND_MS;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) { for (let i = 0; i < 1000; i++) await b.fire(); n += 1000; }
  const rate = n / ((performance.now() - t0) / 1000);
  b.shutdown(); clearTimeout(other);
  return rate;
}
async function inFlight (make) {
  const b = make();
  const end = performance.now() + ROUND_MS;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) { const ps = []; for (let i = 0; i < 1000; i++) ps.push(b.fire()); await Promise.all(ps); n += 1000; }
  const rate = n / ((performance.now() - t0) / 1000);
  b.shutdown();
  return rate;
}

async function main () {
  const rows = {};
  for (const name of Object.keys(IMPLS)) rows[name] = { a: [], c: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, make] of Object.entries(IMPLS)) {
      rows[name].a.push(await inFlight(make));
      rows[name].c.push(await oneByOne(make));
    }
  }
  const fmt = x => Math.round(x).toLocaleString('en-US');
  const nat = { a: median(rows['fusewire (native)'].a), c: median(rows['fusewire (native)'].c) };
  console.log(`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0].model.trim()} (${os.cpus().length} vCPU shared with other builds, load average ${os.loadavg()[0].toFixed(1)}), Node ${process.version}; medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms. \`node release/bench-wasm.js\` after \`make dist\`.\n`);
  console.log('| engine | (a) 1000 in flight (calls/s) | (c) one by one, a timer pending (calls/s) | ns per call (c) | (c) vs native |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, v] of Object.entries(rows)) {
    const a = median(v.a), c = median(v.c);
    const r = nat.c / c;
    const vs = name === 'fusewire (native)' ? '1' : r >= 1 ? `${r.toFixed(2)}× slower` : `${(1 / r).toFixed(2)}× faster`;
    console.log(`| ${name} | ${fmt(a)} | ${fmt(c)} | ${fmt(1e9 / c)} | ${vs} |`);
  }
}
main().then(() => process.exit(0));
