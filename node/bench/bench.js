'use strict';

// One run, fusewire against opossum (dev-dependency), side by side:
//  1. fire() throughput around an async function that resolves at once,
//     default options, in three realistic settings, against the floor (a
//     bare async wrapper): (a) 1000 calls in flight, (b) opossum-prometheus
//     attached, (c) one by one with another timer pending.
//  2. weight: RSS and heap per breaker over 10 000 breakers, construction.
//  3. the cost of a failing call, and the heap, with 100k calls in the window.
// Prints a markdown section; `--write` puts it under "## Node" in ../BENCHMARKS.md.
// Run with --expose-gc (make bench does).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { spawnSync } = require('node:child_process');
const { Registry } = require('prom-client');
const PrometheusMetrics = require('opossum-prometheus');

const IMPLS = { fusewire: require('..'), opossum: require('opossum') };
const ROUNDS = Number(process.env.ROUNDS || 5);
const ROUND_MS = Number(process.env.ROUND_MS || 700);
const WINDOW_CALLS = 100_000;

const gc = global.gc || (() => {});
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const resolved = async () => 1;
const ERR = new Error('down');
const rejected = () => Promise.reject(ERR);

// Counts crossings into Rust, to check the design claim (at most one per
// successful fire; in practice a flush every 128 calls).
const engine = require('../lib/native').native.Engine.prototype;
let crossings = 0;
for (const m of ['flush', 'acquire', 'poll', 'trip', 'close', 'halfOpen', 'mark', 'rotate', 'stats', 'window', 'configure', 'prime']) {
  const f = engine[m];
  engine[m] = function (...a) { crossings++; return f.apply(this, a); };
}

// The settings people run in (issue #14), each measured for fusewire,
// opossum and the floor: a bare async wrapper that awaits the action.
const floor = {
  name: 'bare async wrapper',
  make: () => { const action = resolved; return { fire: async (...a) => await action(...a), shutdown () {} }; }
};

// (c) one by one, with an unrelated timer pending (as in any server: a
// keep-alive, a poll): Node's timer list is not rebuilt on every call.
async function oneByOne (make) {
  const other = setTimeout(() => {}, 1e9);
  const b = make();
  const end = performance.now() + ROUND_MS;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) await b.fire();
    n += 1000;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  b.shutdown();
  clearTimeout(other);
  return rate;
}

// (a) 1000 calls in flight at once, awaited together.
async function inFlight (make) {
  const b = make();
  const end = performance.now() + ROUND_MS;
  let n = 0;
  const t0 = performance.now();
  const batch = new Array(1000);
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) batch[i] = b.fire();
    await Promise.all(batch);
    n += 1000;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  b.shutdown();
  return rate;
}

// (b) opossum-prometheus attached (its listeners on every event), one by
// one with a timer pending, the registry scraped once per round.
async function withPrometheus (make) {
  const registry = new Registry();
  const b = make();
  const metrics = typeof b.on === 'function' ? new PrometheusMetrics({ circuits: [b], registry }) : null;
  const other = setTimeout(() => {}, 1e9);
  const end = performance.now() + ROUND_MS;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) await b.fire();
    n += 1000;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  if (metrics) { await metrics.metrics; metrics.clear(); }
  clearTimeout(other);
  b.shutdown();
  return rate;
}

// 100k successful calls in the window, then failing calls (never opening):
// the per-call cost of a failure, and the heap the window holds.
async function windowed (CB, failures) {
  gc(); gc();
  const heap0 = process.memoryUsage().heapUsed;
  const b = new CB(resolved, { errorThresholdPercentage: 100, rollingCountTimeout: 60_000 });
  for (let i = 0; i < WINDOW_CALLS; i++) await b.fire();
  gc(); gc();
  const heap1 = process.memoryUsage().heapUsed;
  b.action = rejected;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < failures; i++) await b.fire().catch(() => {});
  const perFailure = Number(process.hrtime.bigint() - t0) / failures / 1000;
  const stats = b.stats;
  if (stats.fires !== WINDOW_CALLS + failures) throw new Error(`window lost calls: ${stats.fires}`);
  b.shutdown();
  return { perFailureUs: perFailure, heapMB: (heap1 - heap0) / 2 ** 20 };
}

// 10 000 breakers in a fresh process: RSS and heap per breaker, and the
// construction time; `used` fires each breaker once first.
function weigh (name, used) {
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--weigh', name, used ? 'used' : 'idle'],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

async function weighChild (name, used) {
  const CB = IMPLS[name];
  const N = 10000;
  const settle = async () => { for (let i = 0; i < 4; i++) { gc(); await new Promise(resolve => setImmediate(resolve)); } };
  for (let i = 0; i < 1000; i++) new CB(resolved).shutdown(); // code and caches warm
  await settle();
  const keep = [];
  const m0 = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) keep.push(new CB(resolved));
  const ctorUs = Number(process.hrtime.bigint() - t0) / N / 1000;
  if (used) for (const b of keep) await b.fire();
  await settle();
  const m1 = process.memoryUsage();
  console.log(JSON.stringify({ rss: (m1.rss - m0.rss) / N, heap: (m1.heapUsed - m0.heapUsed) / N, ctorUs, n: keep.length }));
}

async function main () {
  const settings = { oneByOne, inFlight, withPrometheus };
  const makers = {
    fusewire: () => new IMPLS.fusewire(resolved),
    opossum: () => new IMPLS.opossum(resolved),
    floor: floor.make
  };
  const res = {};
  for (const s of Object.keys(settings)) res[s] = { fusewire: [], opossum: [], floor: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['opossum', 'floor', 'fusewire'] : ['fusewire', 'floor', 'opossum'];
    for (const s of Object.keys(settings)) {
      for (const name of order) res[s][name].push(await settings[s](makers[name]));
    }
  }
  const b = new IMPLS.fusewire(resolved);
  crossings = 0;
  for (let i = 0; i < 100_000; i++) await b.fire();
  const perFire = crossings / 100_000;
  b.shutdown();

  const win = {};
  const failCost = { fusewire: [], opossum: [] };
  const heap = { fusewire: [], opossum: [] };
  for (let r = 0; r < 3; r++) {
    for (const name of ['fusewire', 'opossum']) {
      const w = await windowed(IMPLS[name], name === 'opossum' ? 50 : 20000);
      failCost[name].push(w.perFailureUs);
      heap[name].push(w.heapMB);
    }
  }
  for (const name of ['fusewire', 'opossum']) {
    win[name] = { fail: median(failCost[name]), heap: median(heap[name]) };
  }
  const weight = {};
  for (const name of ['fusewire', 'opossum']) {
    weight[name] = { idle: weigh(name, false), used: weigh(name, true) };
  }

  const m = k => ({ f: median(res[k].fusewire), o: median(res[k].opossum), z: median(res[k].floor) });
  const fmt = x => Math.round(x).toLocaleString('en-US');
  const row = (label, k) => {
    const x = m(k);
    return `| ${label} | ${fmt(x.f)} | ${fmt(x.o)} | ${fmt(x.z)} | ${(x.f / x.o).toFixed(2)}× | ${(x.z / x.f).toFixed(2)}× |`;
  };
  const w = (name, kind, key, digits = 0) => weight[name][kind][key].toFixed(digits);
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  const load = os.loadavg()[0].toFixed(1);
  const lines = [
    '## Node',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu} (${os.cpus().length} vCPU shared with other builds, load average ${load}, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ` +
      `Node ${process.version}, opossum ${require('opossum/package.json').version}, fusewire ${require('../package.json').version}. ` +
      `\`make -C node bench\` (bench/bench.js): medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms; window figures medians of 3; ` +
      'weights from 10 000 breakers in a fresh process per row. The machine is shared: compare the ratios within the run, not absolute figures across runs.',
    '',
    'Throughput of `fire()` around `async () => 1` with default options (calls/s); the floor is a bare `async (...a) => await action(...a)`.',
    '',
    '| setting | fusewire | opossum | floor | fusewire / opossum | fusewire cost / floor |',
    '|---|---:|---:|---:|---:|---:|',
    row('(a) 1000 calls in flight, awaited together', 'inFlight'),
    row('(b) opossum-prometheus attached, one by one, a timer pending', 'withPrometheus'),
    row('(c) one by one, another timer pending', 'oneByOne'),
    '',
    '| measure | fusewire | opossum | ratio |',
    '|---|---:|---:|---:|',
    `| RSS per idle breaker, 10 000 breakers (bytes) | ${w('fusewire', 'idle', 'rss')} | ${w('opossum', 'idle', 'rss')} | ${(weight.opossum.idle.rss / weight.fusewire.idle.rss).toFixed(2)}× less |`,
    `| JS heap per idle breaker (bytes) | ${w('fusewire', 'idle', 'heap')} | ${w('opossum', 'idle', 'heap')} | |`,
    `| RSS per breaker after one call each (bytes) | ${w('fusewire', 'used', 'rss')} | ${w('opossum', 'used', 'rss')} | ${(weight.opossum.used.rss / weight.fusewire.used.rss).toFixed(2)}× less |`,
    `| construction (µs per breaker) | ${w('fusewire', 'idle', 'ctorUs', 1)} | ${w('opossum', 'idle', 'ctorUs', 1)} | ${(weight.opossum.idle.ctorUs / weight.fusewire.idle.ctorUs).toFixed(2)}× faster |`,
    `| failing call with 100k calls in the window (µs per call, action rejects a ready error) | ${win.fusewire.fail.toFixed(2)} | ${win.opossum.fail.toFixed(0)} | ${(win.opossum.fail / win.fusewire.fail).toFixed(0)}× less |`,
    `| heap held by 100k calls in the window (MB, after GC) | ${win.fusewire.heap.toFixed(2)} | ${win.opossum.heap.toFixed(2)} | |`,
    `| crossings into Rust per successful fire() | ${perFire.toFixed(4)} | n/a | |`,
    ''
  ];
  const section = lines.join('\n');
  console.log(section);
  if (process.argv.includes('--write')) writeSection(section);
}

function writeSection (section) {
  const file = path.join(__dirname, '..', '..', 'BENCHMARKS.md');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.search(/^## Node\s*$/m);
  let out;
  if (start < 0) {
    out = text.replace(/\s*$/, '\n\n') + section;
  } else {
    const rest = text.slice(start + 1);
    const next = rest.search(/^## /m);
    const end = next < 0 ? text.length : start + 1 + next;
    out = text.slice(0, start) + section + (next < 0 ? '' : '\n' + text.slice(end));
  }
  fs.writeFileSync(file, out);
  console.error(`wrote the Node section of ${file}`);
}

const weighAt = process.argv.indexOf('--weigh');
if (weighAt > 0) {
  weighChild(process.argv[weighAt + 1], process.argv[weighAt + 2] === 'used');
} else {
  main().catch(e => { console.error(e); process.exit(1); });
}
