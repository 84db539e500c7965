'use strict';

// One run, three questions, fusewire against opossum (dev-dependency):
//  1. fire() throughput around an async function that resolves at once,
//     default options: sequential (await each) and 100 concurrent calls.
//  2. the cost of a failing call with 100k calls in the window.
//  3. heap growth over 100k calls in the window.
// Prints a markdown section; `--write` puts it under "## Node" in ../BENCHMARKS.md.
// Run with --expose-gc (make bench does).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

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
for (const m of ['flush', 'acquire', 'poll', 'trip', 'close', 'stats', 'window', 'configure']) {
  const f = engine[m];
  engine[m] = function (...a) { crossings++; return f.apply(this, a); };
}

async function sequential (CB) {
  const b = new CB(resolved);
  const end = performance.now() + ROUND_MS;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) await b.fire();
    n += 1000;
  }
  const rate = n / ((performance.now() - t0) / 1000);
  b.shutdown();
  return rate;
}

async function concurrent (CB) {
  const b = new CB(resolved);
  const end = performance.now() + ROUND_MS;
  let n = 0;
  const t0 = performance.now();
  const batch = new Array(100);
  while (performance.now() < end) {
    for (let r = 0; r < 10; r++) {
      for (let i = 0; i < 100; i++) batch[i] = b.fire();
      await Promise.all(batch);
    }
    n += 1000;
  }
  const rate = n / ((performance.now() - t0) / 1000);
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

async function main () {
  const res = { seq: { fusewire: [], opossum: [] }, con: { fusewire: [], opossum: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 ? ['opossum', 'fusewire'] : ['fusewire', 'opossum']) {
      res.seq[name].push(await sequential(IMPLS[name]));
      res.con[name].push(await concurrent(IMPLS[name]));
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

  const m = k => ({ f: median(res[k].fusewire), o: median(res[k].opossum) });
  const seq = m('seq');
  const con = m('con');
  const fmt = x => Math.round(x).toLocaleString('en-US');
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  const lines = [
    '## Node',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu} (${os.cpus().length} vCPU shared, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ` +
      `Node ${process.version}, opossum ${require('opossum/package.json').version}, fusewire ${require('../package.json').version}. ` +
      `\`make -C node bench\` (bench/bench.js): medians of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms; window figures are medians of 3.`,
    '',
    '| measure | fusewire | opossum | ratio |',
    '|---|---:|---:|---:|',
    `| fire() around \`async () => 1\`, default options, awaited one by one (calls/s) | ${fmt(seq.f)} | ${fmt(seq.o)} | ${(seq.f / seq.o).toFixed(2)}× |`,
    `| same, 100 concurrent calls per batch (calls/s) | ${fmt(con.f)} | ${fmt(con.o)} | ${(con.f / con.o).toFixed(2)}× |`,
    `| failing call with 100k calls in the window (µs per call, action rejects a ready error) | ${win.fusewire.fail.toFixed(2)} | ${win.opossum.fail.toFixed(0)} | ${(win.opossum.fail / win.fusewire.fail).toFixed(0)}× less |`,
    `| heap held by 100k calls in the window (MB, after GC) | ${win.fusewire.heap.toFixed(2)} | ${win.opossum.heap.toFixed(2)} | |`,
    `| crossings into Rust per successful fire() | ${perFire.toFixed(4)} | n/a | |`,
    '',
    'fusewire keeps the window in Rust (fixed buckets, a latency histogram per bucket: about 41 KB per breaker whatever the traffic); ' +
      'opossum keeps every latency sample of the window in JS arrays and sorts them all on each failure. ' +
      'A successful closed-state fire() does not cross into Rust: outcomes are appended to a Float64Array that Rust drains every 256 records ' +
      'or at the next failure, stats read or transition.',
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

main().catch(e => { console.error(e); process.exit(1); });
