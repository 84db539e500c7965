'use strict';

// Decision cost in-process vs HostStore (issue #17), one run, side by side.
// Latency: each sample times a batch of 100 decisions and divides; p50/p99
// over 2000 batches. Throughput: decisions per second summed over 1 or 8
// processes (child_process.fork), each deciding for 1 s; in-process each
// process has its own policy, HostStore they all share one.
//
// Run: node bench/host.js   (prints a Markdown table)

const { fork } = require('node:child_process');
const os = require('node:os');
const fw = require('..');

const BATCH = 100;
const SAMPLES = 2000;
const KINDS = ['bucket.tryTake', 'Breaker tryAcquire+record', 'bulkhead tryAcquire+release'];

function make (kind, storeName) {
  const extra = storeName ? { store: new fw.HostStore(storeName), name: kind } : {};
  if (kind === 'bucket.tryTake') {
    const b = new fw.TokenBucket({ burst: 1e9, tokens: 1e9, period: 1000, ...extra });
    return () => b.tryTake();
  }
  if (kind === 'Breaker tryAcquire+record') {
    const b = new fw.Breaker({ halfOpenMaxDwell: 5000, ...extra });
    return () => {
      const a = b.tryAcquire();
      if (a.admitted) b.record(a.permit, 'success', 1);
    };
  }
  const h = new fw.Bulkhead({ limit: 1e6, ...extra });
  return () => h.tryAcquire()();
}

function latency (kind, storeName) {
  const f = make(kind, storeName);
  for (let i = 0; i < 20000; i++) f();
  const per = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) f();
    per.push(Number(process.hrtime.bigint() - t) / BATCH);
  }
  per.sort((a, b) => a - b);
  return [per[SAMPLES >> 1], per[Math.floor(SAMPLES * 0.99)]];
}

async function throughput (kind, storeName, procs) {
  const start = String(process.hrtime.bigint() + 2000000000n);
  const runs = Array.from({ length: procs }, () => new Promise((resolve) => {
    const c = fork(__filename, ['worker', kind, storeName ?? '', start]);
    c.on('message', (n) => resolve(n));
  }));
  return (await Promise.all(runs)).reduce((a, b) => a + b, 0);
}

async function worker ([kind, storeName, start]) {
  const f = make(kind, storeName || null);
  const t0 = BigInt(start);
  while (process.hrtime.bigint() < t0) await new Promise((resolve) => setTimeout(resolve, 1));
  const end = t0 + 1000000000n;
  let n = 0;
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < BATCH; i++) f();
    n += BATCH;
  }
  process.send(n, () => process.exit(0));
}

async function main () {
  const name = `bench-node-${process.pid}`;
  new fw.HostStore(name);
  console.log(`Node ${process.version}, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| decision | store | p50 ns | p99 ns | 1 process /s | 8 processes /s |');
  console.log('|---|---|---:|---:|---:|---:|');
  try {
    for (const kind of KINDS) {
      for (const [label, store] of [['in-process', null], ['HostStore', name]]) {
        const [p50, p99] = latency(kind, store);
        const t1 = await throughput(kind, store, 1);
        const t8 = await throughput(kind, store, 8);
        const f = (n) => n.toLocaleString('en-US');
        console.log(`| \`${kind}\` | ${label} | ${p50.toFixed(0)} | ${p99.toFixed(0)} | ${f(t1)} | ${f(t8)} |`);
      }
    }
  } finally {
    fw.HostStore.unlink(name);
  }
}

if (process.argv[2] === 'worker') worker(process.argv.slice(3));
else main();
