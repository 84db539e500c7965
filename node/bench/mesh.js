'use strict';

// Chaos and Pool from Node, beside their floors, in one run:
//  1. chaos: a sync action `(x) => x` called bare (the floor: a wrapper that
//     applies it), through chaos() switched off, switched on with nothing to
//     inject (every call asks the core: one crossing, one decision), and the
//     Chaos policy's inject() (the decision as an object).
//  2. pool: pick + record(success) per call over 3 and 64 endpoints, through
//     the pick object (pool.pick().record()) and the low-level path the pick
//     object uses, beside a JS round-robin floor (next index, count the
//     result); and pool.call(fn) around an async fn beside `await fn(url)`.
// ns per call, medians of ROUNDS interleaved rounds. Prints markdown.

const os = require('node:os');
const { chaos, Chaos, Pool } = require('..');

const ROUNDS = Number(process.env.ROUNDS || 7);
const N = Number(process.env.N || 300_000);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

function timeSync (fn) {
  const t0 = process.hrtime.bigint();
  fn(N);
  return Number(process.hrtime.bigint() - t0) / N;
}

async function timeAsync (fn) {
  const n = N / 10;
  const t0 = process.hrtime.bigint();
  await fn(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

const id = (x) => x;
let sink = 0;

const bare = (action) => function (...a) { return action.apply(this, a); };
const chaosCases = {
  'bare wrapper (floor)': bare(id),
  'chaos() switched off': chaos(id, { faultRate: 10, seed: 1 }),
  'chaos() on, nothing injected (0% rates)': (() => { const w = chaos(id, { seed: 1 }); w.enable(); return w; })()
};
const policy = new Chaos({ faultRate: 10, latencyRate: 10, latencyMax: 100, seed: 1, enabled: true });

function roundRobin (n) {
  const urls = Array.from({ length: n }, (_, i) => `http://e${i}`);
  const outstanding = new Array(n).fill(0);
  const successes = new Array(n).fill(0);
  let next = 0;
  return (k) => {
    for (let i = 0; i < k; i++) {
      const e = next;
      next = next + 1 === n ? 0 : next + 1;
      outstanding[e]++;
      sink += urls[e].length;
      outstanding[e]--;
      successes[e]++;
    }
  };
}

function pools (n) {
  const urls = Array.from({ length: n }, (_, i) => `http://e${i}`);
  const pool = new Pool(urls, { seed: 1, timers: false });
  return {
    object: (k) => { for (let i = 0; i < k; i++) { const p = pool.pick(); sink += p.url.length; p.record(); } },
    call: async (k) => { for (let i = 0; i < k; i++) sink += (await pool.call(async (u) => u)).length; },
    pool
  };
}

async function main () {
  const results = {};
  const add = (k, v) => { (results[k] ??= []).push(v); };
  const p3 = pools(3);
  const p64 = pools(64);
  const rr3 = roundRobin(3);
  const rr64 = roundRobin(64);
  const urls3 = p3.pool.endpoints;
  for (let r = 0; r < ROUNDS; r++) {
    // One loop per case (a shared loop's call site would go polymorphic and
    // charge every case for it).
    const [floorW, offW, onW] = Object.values(chaosCases);
    const [floorN, offN, onN] = Object.keys(chaosCases);
    add(`chaos|${floorN}`, timeSync((k) => { for (let i = 0; i < k; i++) sink += floorW(i); }));
    add(`chaos|${offN}`, timeSync((k) => { for (let i = 0; i < k; i++) sink += offW(i); }));
    add(`chaos|${onN}`, timeSync((k) => { for (let i = 0; i < k; i++) sink += onW(i); }));
    add('chaos|Chaos.inject() (decision as an object)', timeSync((k) => { for (let i = 0; i < k; i++) sink += policy.inject().delay; }));
    add('pool|round-robin floor, 3 endpoints', timeSync(rr3));
    add('pool|pick().record(), 3 endpoints', timeSync(p3.object));
    add('pool|round-robin floor, 64 endpoints', timeSync(rr64));
    add('pool|pick().record(), 64 endpoints', timeSync(p64.object));
    add('call|await fn(url) round-robin (floor)', await timeAsync(async (k) => {
      let j = 0;
      for (let i = 0; i < k; i++) { sink += (await (async (u) => u)(urls3[j])).length; j = j + 1 === 3 ? 0 : j + 1; }
    }));
    add('call|pool.call(fn), 3 endpoints', await timeAsync(p3.call));
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  const load = os.loadavg()[0].toFixed(1);
  const cpu = os.cpus()[0].model;
  console.log(`Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu} (${os.cpus().length} vCPU shared with other builds, load average ${load}), Node ${process.version}. \`make -C node bench\` (bench/mesh.js): ns per call, medians of ${ROUNDS} interleaved rounds of ${N.toLocaleString('en')} calls (async rows: ${(N / 10).toLocaleString('en')}).\n`);
  const floorOf = { chaos: m['chaos|bare wrapper (floor)'] };
  console.log('| chaos, around a sync `(x) => x` | ns per call | over the floor |');
  console.log('|---|---:|---:|');
  for (const [k, v] of Object.entries(m)) {
    if (!k.startsWith('chaos|')) continue;
    console.log(`| ${k.slice(6)} | ${v.toFixed(1)} | ${(v - floorOf.chaos).toFixed(1)} |`);
  }
  console.log('\n| pool, pick + record(success) | ns per call | × floor |');
  console.log('|---|---:|---:|');
  for (const n of [3, 64]) {
    const f = m[`pool|round-robin floor, ${n} endpoints`];
    const v = m[`pool|pick().record(), ${n} endpoints`];
    console.log(`| round-robin floor (JS), ${n} endpoints | ${f.toFixed(1)} | 1 |`);
    console.log(`| pool.pick() then pick.record(), ${n} endpoints | ${v.toFixed(1)} | ${(v / f).toFixed(1)}× |`);
  }
  const cf = m['call|await fn(url) round-robin (floor)'];
  const cv = m['call|pool.call(fn), 3 endpoints'];
  console.log(`| \`await fn(url)\` round-robin (floor), async | ${cf.toFixed(1)} | 1 |`);
  console.log(`| \`pool.call(async (url) => url)\`, 3 endpoints | ${cv.toFixed(1)} | ${(cv / cf).toFixed(1)}× |`);
  if (sink === 0.5) console.log(sink);
}

main();
