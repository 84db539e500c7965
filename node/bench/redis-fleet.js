'use strict';

// One bucket shared by 1 and 8 processes through Redis (issue #17's
// "1 and 8 processes" figures for Node), beside rate-limiter-flexible's
// RateLimiterRedis, the Node peer: each process awaits one decision at a
// time on the one key for 2 s; latency p50/p99 over every decision of every
// process, throughput the sum of decisions per second. fusewire's bucket
// in-process (each process its own) is the floor; lease mode the cut.
//
// Run: node bench/redis-fleet.js   (starts its own redis-server)

const { fork } = require('node:child_process');
const SECONDS = 2;

function pct (sorted, p) { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]; }

async function worker ([kind, url, start]) {
  const fw = require('..');
  let decide;
  let store = null;
  let peer = null;
  if (kind === 'in-process') {
    const b = new fw.TokenBucket({ burst: 1e9, tokens: 1e9, period: 1000 });
    decide = () => b.take();
  } else if (kind.startsWith('fusewire')) {
    store = new fw.RedisStore(url, { timeout: 1000, lease: kind.includes('lease') ? 100 : null });
    const b = new fw.TokenBucket({ burst: 1e9, tokens: 1e9, period: 1000, store, name: 'fleet' });
    decide = () => b.take();
  } else {
    const Redis = require('ioredis');
    const { RateLimiterRedis } = require('rate-limiter-flexible');
    peer = new Redis(url, { enableOfflineQueue: false });
    await new Promise((resolve) => peer.once('ready', resolve));
    const limiter = new RateLimiterRedis({ storeClient: peer, points: 2e9, duration: 60, keyPrefix: 'rlf' });
    decide = () => limiter.consume('fleet');
  }
  for (let i = 0; i < 200; i++) await decide(); // warm-up (connections, scripts loaded)
  while (Date.now() < Number(start)) await new Promise((resolve) => setTimeout(resolve, 1));
  const end = Number(start) + SECONDS * 1000;
  const times = [];
  while (Date.now() < end) {
    const t = process.hrtime.bigint();
    await decide();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  if (store !== null) await store.close();
  if (peer !== null) peer.disconnect();
  process.send({ n: times.length, times: times.filter((_, i) => i % 4 === 0) }, () => process.exit(0));
}

async function run (kind, url, procs) {
  const start = String(Date.now() + 1500);
  const results = await Promise.all(Array.from({ length: procs }, () => new Promise((resolve, reject) => {
    const c = fork(__filename, ['worker', kind, url, start]);
    c.once('message', resolve);
    c.once('error', reject);
  })));
  const times = results.flatMap((r) => r.times).sort((a, b) => a - b);
  const n = results.reduce((a, r) => a + r.n, 0);
  return [pct(times, 0.5), pct(times, 0.99), Math.round(n / SECONDS)];
}

async function main () {
  const { RedisServer } = require('../test/redis-server');
  const server = await new RedisServer().start();
  try {
    console.log(`Node ${process.version}, ${new Date().toISOString()}, redis-server on loopback, ${SECONDS} s per run`);
    console.log('\n| processes | decision | p50 (µs) | p99 (µs) | decisions/s |\n|---:|---|---:|---:|---:|');
    for (const procs of [1, 8]) {
      for (const kind of ['in-process', 'fusewire bucket, RedisStore', 'fusewire bucket, RedisStore lease: 100', 'rate-limiter-flexible RateLimiterRedis']) {
        const [p50, p99, rate] = await run(kind, server.url, procs);
        console.log(`| ${procs} | ${kind} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${rate.toLocaleString('en-US')} |`);
      }
    }
  } finally {
    await server.close();
  }
}

if (process.argv[2] === 'worker') worker(process.argv.slice(3));
else main();
