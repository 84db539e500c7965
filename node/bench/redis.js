'use strict';

// opossum's fire() with its breaker in-process, in a HostStore and in a
// RedisStore (issue #17), a bucket decision in-process and through Redis
// beside rate-limiter-flexible's (the Node peer: RateLimiterMemory and
// RateLimiterRedis, a fixed window in one Lua script), the core Breaker and
// a retry budget through Redis, one run, side by side. Each sample is one awaited fire() (a Redis round trip is far
// above the timer's cost); p50/p99 over SAMPLES sequential calls after a
// warm-up, and the scripts the server ran per decision (round trips).
//
// Run: node bench/redis.js   (starts its own redis-server on a free port)

const CircuitBreaker = require('..');
const { HostStore, RedisStore, TokenBucket, Breaker, RetryBudget } = CircuitBreaker;
const { RateLimiterMemory, RateLimiterRedis } = require('rate-limiter-flexible');
const Redis = require('ioredis');
const { RedisServer } = require('../test/redis-server');

const SAMPLES = 3000;
const action = async (x) => x;

function pct (sorted, p) { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]; }

async function time (label, call, commands) {
  for (let i = 0; i < 300; i++) await call(i);
  const before = commands ? await commands() : 0;
  const t = [];
  for (let i = 0; i < SAMPLES; i++) {
    const s = process.hrtime.bigint();
    await call(i);
    t.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  const trips = commands ? ((await commands()) - before) / SAMPLES : 0;
  t.sort((a, b) => a - b);
  console.log(`| ${label} | ${pct(t, 0.5).toFixed(1)} | ${pct(t, 0.99).toFixed(1)} | ${trips.toFixed(2)} |`);
}

(async () => {
  const server = await new RedisServer().start();
  const admin = new Redis(server.url);
  // round trips: the scripts the server ran (EVALSHA, or EVAL after NOSCRIPT)
  const commands = async () => {
    const stats = await admin.info('commandstats');
    return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const host = `bench-redis-${process.pid}`;
  const stores = [];
  try {
    console.log(`Node ${process.version}, ${new Date().toISOString()}, redis-server on loopback`);
    console.log('\n| decision | p50 (µs) | p99 (µs) | round trips per decision |\n|---|---:|---:|---:|');
    const plain = new CircuitBreaker(action, { timeout: false });
    await time('opossum `fire()`, breaker in-process', (i) => plain.fire(i));
    const hs = new HostStore(host);
    const shared = new CircuitBreaker(action, { timeout: false, store: hs, name: 'b' });
    await time('opossum `fire()`, breaker in a HostStore', (i) => shared.fire(i));
    const rs = new RedisStore(server.url, { timeout: 1000 });
    stores.push(rs);
    const fleet = new CircuitBreaker(action, { timeout: false, store: rs, name: 'b' });
    await time('opossum `fire()`, breaker in a RedisStore', async (i) => {
      await fleet.fire(i);
      await new Promise(setImmediate); // the outcome's round trip, sent after the call settled
    }, commands);
    const own = new TokenBucket({ burst: 1e6, tokens: 1e6, period: 1000 });
    await time('`await bucket.take()`, bucket in-process', () => own.take());
    const memory = new RateLimiterMemory({ points: 1e9, duration: 1 });
    await time('rate-limiter-flexible `consume()`, RateLimiterMemory', () => memory.consume('k'));
    const bucket = new TokenBucket({ burst: 1e6, tokens: 1e6, period: 1000, store: rs, name: 'k' });
    await time('`await bucket.take()`, bucket in a RedisStore', () => bucket.take(), commands);
    const leased = new RedisStore(server.url, { timeout: 1000, lease: 100 });
    stores.push(leased);
    const leasedBucket = new TokenBucket({ burst: 1e6, tokens: 1e6, period: 1000, store: leased, name: 'k' });
    await time('`await bucket.take()`, bucket in a RedisStore, lease: 100', () => leasedBucket.take(), commands);
    const peer = new Redis(server.url, { enableOfflineQueue: false });
    await new Promise((resolve) => peer.once('ready', resolve));
    const flexible = new RateLimiterRedis({ storeClient: peer, points: 1e9, duration: 1, keyPrefix: 'rlf' });
    await time('rate-limiter-flexible `consume()`, RateLimiterRedis', () => flexible.consume('k'), commands);
    const core = new Breaker({ store: rs, name: 'core' });
    await time('core `Breaker`: `tryAcquire()` + `record()`, in a RedisStore', async () => {
      const a = await core.tryAcquire();
      await core.record(a.permit, 'success', 1);
    }, commands);
    const budget = new RetryBudget({ maxTokens: 1e6, store: rs, name: 'budget' });
    await time('`RetryBudget` `tryRetry()`, in a RedisStore', () => budget.tryRetry(), commands);
    peer.disconnect();
    for (const b of [plain, shared, fleet]) b.shutdown();
    HostStore.unlink(host);
  } finally {
    for (const s of stores) await s.close();
    admin.disconnect();
    await server.close();
  }
})();
