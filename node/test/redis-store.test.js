'use strict';

// RedisStore (the fleet tier) against a real redis-server on loopback.

const test = require('node:test');
const assert = require('node:assert');
const { fork } = require('node:child_process');
const Redis = require('ioredis');
const { TokenBucket, Breaker, RetryBudget, RedisStore, RedisStoreError } = require('..');
const { fingerprint } = require('../lib/redis');
const { RedisServer, redisForTests } = require('./redis-server');

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
  const redis = redisForTests(test, RedisStore);
  const open = redis.open;

  test('close() with Redis down lets the process exit (no 2 s socket wait left behind)', () => {
    // ioredis waits disconnectTimeout (2 s by default) for a socket that
    // never closes; an unref'd timer at 1 s fires only if something else
    // still holds the process then
    const { spawnSync } = require('node:child_process');
    const script = `
      const { TokenBucket, RedisStore } = require(${JSON.stringify(require.resolve('..'))});
      (async () => {
        const store = new RedisStore('redis://127.0.0.1:1');
        const bucket = new TokenBucket({ burst: 5, store, name: 'exit' });
        console.log('granted', await bucket.tryTake(), 'errors', store.errors);
        await store.close();
        setTimeout(() => console.log('still alive after 1 s'), 1000).unref();
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout.trim(), 'granted true errors 1');
  });

  test('a store on your own ioredis client (no commandTimeout) still answers a stalled Redis within its timeout', async () => {
    // ioredis's defaults have no command timeout: a SIGSTOPped Redis held
    // every decision forever
    const client = new Redis(redis.server.url);
    const store = new RedisStore(client, { timeout: 50, onError: 'fail_closed' });
    const bucket = new TokenBucket({ burst: 5, store, name: 'own-client' });
    try {
      assert.strictEqual(await bucket.tryTake(), true);
      redis.server.proc.kill('SIGSTOP');
      try {
        const t = Date.now();
        assert.strictEqual(await bucket.tryTake(), false, 'fail_closed refuses');
        assert.ok(Date.now() - t < 1000, `took ${Date.now() - t} ms`);
        assert.strictEqual(store.errors, 1);
      } finally {
        redis.server.proc.kill('SIGCONT');
      }
    } finally {
      client.disconnect();
    }
  });

  test('a URL that cannot work is a RedisStoreError saying why: another service on the port, a database Redis does not have', async () => {
    // ioredis reports both as events and goes on (reconnecting forever, or
    // on database 0): onError answered, and the bucket ran in database 0
    const net = require('node:net');
    const http = net.createServer((c) => c.on('data', () => c.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const cases = [
        [`redis://127.0.0.1:${http.address().port}`, /did not answer as Redis/],
        [redis.server.url.replace(/\/0$/, '/99'), /has no such database/]
      ];
      for (const [url, why] of cases) {
        const store = new RedisStore(url, { onError: 'fail_open' });
        const bucket = new TokenBucket({ burst: 5, store, name: 'nowhere' });
        for (let i = 0; i < 2; i++) {
          await assert.rejects(bucket.tryTake(), (e) => e instanceof RedisStoreError && e.code === 'ERR_FUSEWIRE_REDIS' && why.test(e.message), url);
        }
        assert.strictEqual(store.errors, 0, 'not an outage: onError does not answer');
        await store.close();
      }
      const admin = new Redis(redis.server.url);
      assert.deepStrictEqual(await admin.keys('fusewire:bucket:nowhere'), [], 'nothing written in database 0');
      admin.disconnect();
    } finally {
      http.close();
    }
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
      assert.throws(() => new RedisStore(redis.server.url, o), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === field, field);
    }
    for (const url of ['http://localhost:6379', 'localhost', undefined, 42]) {
      assert.throws(() => new RedisStore(url), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'url');
    }
    // the core Breaker and the RetryBudget validate their options as without a store
    assert.throws(() => new Breaker({ store: open(), name: 'b', minCalls: -1 }), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'minCalls');
    assert.throws(() => new RetryBudget({ maxTokens: 4, tokenRatio: NaN, store: open(), name: 'rb' }), (e) => e.field === 'tokenRatio');
    assert.throws(() => new RetryBudget({ maxTokens: 4, store: open() }), (e) => e.field === 'name');
  });

  test('lease mode cuts round trips by ten or more', async () => {
    const plain = open();
    const leased = open({ lease: 20 });
    const a = new TokenBucket({ burst: 1000, tokens: 1000, store: plain, name: 'rt-plain' });
    const b = new TokenBucket({ burst: 1000, tokens: 1000, store: leased, name: 'rt-lease' });
    for (let i = 0; i < 500; i++) {
      assert.strictEqual(await a.tryTake(), true);
      assert.strictEqual(await b.tryTake(), true);
    }
    assert.ok(plain.roundTrips >= 500, String(plain.roundTrips));
    assert.ok(plain.roundTrips >= 10 * leased.roundTrips, `${plain.roundTrips} vs ${leased.roundTrips}`);
  });

  test('lease mode over-admits at most one lease per process, and only since the lease was taken', async () => {
    // 10 tokens a second, burst 10; A leases 10 at a time for up to 5 s
    const a = new TokenBucket({ burst: 10, tokens: 10, store: open({ lease: 10, leaseTime: 5000 }), name: 'over' });
    const b = new TokenBucket({ burst: 10, tokens: 10, store: open(), name: 'over' });
    assert.strictEqual(await a.tryTake(), true); // A took the whole bucket (10) and spent 1
    assert.strictEqual(await b.tryTake(), false, 'A holds the other 9');
    await new Promise((resolve) => setTimeout(resolve, 1050)); // the shared bucket is full again
    const start = Date.now();
    let window = 0;
    for (let i = 0; i < 10; i++) window += await b.tryTake() ? 1 : 0;
    for (let i = 0; i < 10; i++) window += await a.tryTake() ? 1 : 0;
    const elapsed = (Date.now() - start) / 1000;
    // B spends the refilled 10, A the 9 it held (and a token refilled meanwhile, if any)
    assert.ok(window >= 19, `${window}: more than the burst, the over-admission lease mode allows`);
    assert.ok(window <= 10 + 10 * elapsed + 10, `${window}: at most one lease over burst + rate x elapsed`);
  });

  test('lease mode hands the unused tokens back at close(), and when held too long', async () => {
    const sa = new RedisStore(redis.server.url, { lease: 10, leaseTime: 100 });
    const a = new TokenBucket({ burst: 10, tokens: 1, period: 3600000, store: sa, name: 'back' });
    const b = new TokenBucket({ burst: 10, tokens: 1, period: 3600000, store: open(), name: 'back' });
    assert.strictEqual(await a.tryTake(), true);
    assert.strictEqual(await b.tryTake(), false);
    await sa.close();
    let got = 0;
    for (let i = 0; i < 20; i++) got += await b.tryTake() ? 1 : 0;
    assert.strictEqual(got, 9, 'since the start, never more than the burst');
    // held longer than leaseTime: handed back rather than spent
    const sc = open({ lease: 5, leaseTime: 50 });
    const c = new TokenBucket({ burst: 5, tokens: 1, period: 3600000, store: sc, name: 'stale' });
    const d = new TokenBucket({ burst: 5, tokens: 1, period: 3600000, store: open(), name: 'stale' });
    assert.strictEqual(await c.tryTake(), true); // took 5, spent 1
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.strictEqual(await c.tryTake(), true); // the 4 went back, then 4 taken again
    assert.strictEqual(await d.tryTake(), false, 'c holds the 3 left');
  });

  test('bad lease options name the option', () => {
    for (const [o, field] of [[{ lease: 1 }, 'lease'], [{ lease: 2.5 }, 'lease'], [{ lease: '10' }, 'lease'], [{ leaseTime: 0 }, 'leaseTime'], [{ leaseTime: Infinity }, 'leaseTime']]) {
      assert.throws(() => new RedisStore(redis.server.url, o), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === field, JSON.stringify(o));
    }
  });

  test('tryTake and tryAcquire on a bucket in Redis answer with promises, without waiting', async () => {
    const bucket = new TokenBucket({ burst: 2, tokens: 1, period: 3600000, store: open(), name: 'try' });
    assert.strictEqual(await bucket.tryTake(), true);
    assert.deepStrictEqual(await bucket.tryAcquire(), { result: 'granted' });
    assert.strictEqual(await bucket.tryTake(), false);
    const denied = await bucket.tryAcquire();
    assert.strictEqual(denied.result, 'denied');
    assert.ok(denied.retryAfter > 3590000 && denied.retryAfter <= 3600000, String(denied.retryAfter));
    assert.deepStrictEqual(await bucket.tryAcquire(3), { result: 'exceedsBurst', burst: 2 });
    assert.throws(() => bucket.tryAcquire(-1), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' || e instanceof TypeError);
    assert.strictEqual(bucket.available, 0);
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
    const r = new Redis(redis.server.url);
    const [s0, u0] = await r.time();
    const seconds = 2;
    const counts = await Promise.all([0, 1, 2, 3].map(() => new Promise((resolve, reject) => {
      const child = fork(__filename, ['hammer', redis.server.url, String(seconds)]);
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
      await redis.server.stop();
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
      await redis.server.start(); // a new server: no scripts (NOSCRIPT), no state
      const deadline = Date.now() + 10000;
      while ((store._failures > 0 || store.client.status !== 'ready') && Date.now() < deadline) {
        await bucket._native.take(1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const r = new Redis(redis.server.url); await r.flushall(); r.disconnect();
      let granted = 0;
      for (let i = 0; i < 10; i++) if (await bucket._native.take(1) === 0) granted++;
      assert.strictEqual(granted, 3, 'reconnected: Redis decides again, nothing from the outage counted');
    });
  }
}
