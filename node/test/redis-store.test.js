'use strict';

// RedisStore (the fleet tier) against a real redis-server on loopback.

const test = require('node:test');
const assert = require('node:assert');
const { fork } = require('node:child_process');
const Redis = require('ioredis');
const { TokenBucket, Breaker, RetryBudget, RedisStore, RedisStoreError } = require('..');
const { fingerprint } = require('../lib/redis');
const { RedisServer } = require('./redis-server');

if (process.argv[2] === 'hammer') {
  // a child process: take from the shared bucket for `seconds`, report the grants
  const [url, seconds] = [process.argv[3], Number(process.argv[4])];
  const store = new RedisStore(url, { timeout: 1000 });
  const bucket = new TokenBucket({ burst: 20, tokens: 100, period: 1000, store, name: 'fleet' });
  (async () => {
    let granted = 0;
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      const wait = await bucket._native.take(1);
      if (wait === 0) granted++;
    }
    process.send(granted, () => { store.close(); process.exit(0); });
  })();
} else {
  let server;
  const stores = [];
  const open = (o) => { const s = new RedisStore(server.url, o); stores.push(s); return s; };
  test.before(async () => { server = await new RedisServer().start(); });
  test.after(async () => { for (const s of stores) await s.close(); await server.close(); });
  test.beforeEach(async () => {
    if (server.proc.exitCode !== null) await server.start();
    const r = new Redis(server.url); await r.flushall(); r.disconnect();
  });

  test('two buckets with one name share the tokens', async () => {
    const a = new TokenBucket({ burst: 5, tokens: 1, period: 3600000, store: open(), name: 'api' });
    const b = new TokenBucket({ burst: 5, tokens: 1, period: 3600000, store: open(), name: 'api' });
    let granted = 0;
    for (let i = 0; i < 5; i++) {
      if (await a._native.take(1) === 0) granted++;
      if (await b._native.take(1) === 0) granted++;
    }
    assert.strictEqual(granted, 5);
  });

  test('the fingerprint is the one Python sends for the same bucket', () => {
    // py/tests/test_redis_store.py asserts the same string
    assert.strictEqual(fingerprint('bucket', { burst: 20, tokens: 1, period: 10000000 }), 'bucket|20|1|10000');
  });

  test('a different config under one name is a typed error naming the option', async () => {
    const a = new TokenBucket({ burst: 5, store: open(), name: 'same' });
    await a.take();
    const b = new TokenBucket({ burst: 6, store: open(), name: 'same' });
    await assert.rejects(b.take(), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'burst' && /already in Redis/.test(e.message));
  });

  test('bad options, a wrong URL, a sync call on a bucket: typed errors', () => {
    for (const [o, field] of [[{ onError: 'maybe' }, 'onError'], [{ timeout: NaN }, 'timeout'], [{ timeout: Infinity }, 'timeout'],
      [{ timeout: -1 }, 'timeout'], [{ timeout: '50' }, 'timeout'], [{ ttl: 1 }, 'ttl'], [{ prefix: '' }, 'prefix']]) {
      assert.throws(() => new RedisStore(server.url, o), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === field, field);
    }
    for (const url of ['http://localhost:6379', 'localhost', undefined, 42]) {
      assert.throws(() => new RedisStore(url), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'url');
    }
    // the core Breaker and the RetryBudget validate their options as without a store
    assert.throws(() => new Breaker({ store: open(), name: 'b', minCalls: -1 }), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'minCalls');
    assert.throws(() => new RetryBudget({ maxTokens: 4, tokenRatio: NaN, store: open(), name: 'rb' }), (e) => e.field === 'tokenRatio');
    assert.throws(() => new RetryBudget({ maxTokens: 4, store: open() }), (e) => e.field === 'name');
    const bucket = new TokenBucket({ burst: 2, store: open(), name: 'sync' });
    assert.throws(() => bucket.tryAcquire(), RedisStoreError);
  });

  test('a Redis that needs a password says so', async () => {
    const locked = await new RedisServer('--requirepass', 's3cret').start();
    try {
      const s = new RedisStore(locked.url);
      await assert.rejects(new TokenBucket({ burst: 2, store: s, name: 't' }).take(), (e) => e instanceof RedisStoreError && /password/.test(e.message));
      await s.close();
      const good = new RedisStore(`redis://:s3cret@127.0.0.1:${locked.port}/0`);
      await new TokenBucket({ burst: 2, store: good, name: 't' }).take();
      await good.close();
    } finally {
      await locked.close();
    }
  });

  test('four processes on one bucket never exceed burst + rate x elapsed', async () => {
    const r = new Redis(server.url);
    const [s0, u0] = await r.time();
    const seconds = 2;
    const counts = await Promise.all([0, 1, 2, 3].map(() => new Promise((resolve, reject) => {
      const child = fork(__filename, ['hammer', server.url, String(seconds)]);
      child.once('message', resolve);
      child.once('error', reject);
    })));
    const [s1, u1] = await r.time();
    r.disconnect();
    const elapsed = (s1 - s0) + (u1 - u0) / 1e6; // the server's clock, the scripts' clock
    const total = counts.reduce((a, b) => a + b, 0);
    assert.ok(total <= 20 + 100 * elapsed, `${total} > 20 + 100 x ${elapsed}`);
    assert.ok(total >= 100 * seconds * 0.8, `${total}: the processes did take what the bucket had`);
  });

  for (const onError of ['fail_open', 'fail_closed', 'local']) {
    test(`Redis stopped mid-run: ${onError} answers in bounded time, then Redis again`, async () => {
      const store = open({ timeout: 50, onError });
      const bucket = new TokenBucket({ burst: 3, tokens: 1, period: 3600000, store, name: `down-${onError}` });
      assert.strictEqual(await bucket._native.take(1), 0);
      await server.stop();
      let worst = 0;
      const answers = [];
      for (let i = 0; i < 30; i++) {
        const t = Date.now();
        answers.push(await bucket._native.take(1) === 0);
        worst = Math.max(worst, Date.now() - t);
      }
      assert.ok(worst < 100, `a call took ${worst} ms with Redis down`);
      if (onError === 'fail_open') assert.ok(answers.every(Boolean));
      else if (onError === 'fail_closed') assert.ok(!answers.some(Boolean));
      else assert.deepStrictEqual([answers.slice(0, 3).every(Boolean), answers.slice(3).some(Boolean)], [true, false]);
      await server.start(); // a new server: no scripts (NOSCRIPT), no state
      const deadline = Date.now() + 10000;
      while ((store._failures > 0 || store.client.status !== 'ready') && Date.now() < deadline) {
        await bucket._native.take(1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const r = new Redis(server.url); await r.flushall(); r.disconnect();
      let granted = 0;
      for (let i = 0; i < 10; i++) if (await bucket._native.take(1) === 0) granted++;
      assert.strictEqual(granted, 3, 'reconnected: Redis decides again, nothing from the outage counted');
    });
  }
}
