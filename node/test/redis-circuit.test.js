'use strict';

// opossum's CircuitBreaker and the Bulkhead with { store: RedisStore, name }:
// one breaker, one set of slots for processes on many hosts, against a real
// redis-server on loopback.

const test = require('node:test');
const assert = require('node:assert');
const { fork } = require('node:child_process');
const CircuitBreaker = require('..');
const { RedisStore, Bulkhead, RedisStoreError } = CircuitBreaker;
const { redisForTests } = require('./redis-server');

const OPTIONS = { errorThresholdPercentage: 50, resetTimeout: 400, volumeThreshold: 2, timeout: false };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const action = async (x) => {
  if (x === 'bad') throw new Error('boom');
  if (x === 'slow') await sleep(100); // well inside the half-open dwell (resetTimeout, from the open period's end)
  return x;
};

if (process.argv[2] === 'holder') {
  // a child process: takes the one slot of 'held' and never gives it back
  const store = new RedisStore(process.argv[3], { timeout: 1000 });
  const bulkhead = new Bulkhead({ limit: 1, lease: 600, store, name: 'held' });
  bulkhead.run(() => { process.send('holding'); return new Promise(() => {}); });
} else if (process.argv[2] === 'worker') {
  // a child process: one breaker bound to 'db'; the parent says what to fire
  const store = new RedisStore(process.argv[3], { timeout: 1000 });
  const breaker = new CircuitBreaker(action, { ...OPTIONS, store, name: 'db' });
  process.on('message', async (m) => {
    if (m === 'exit') {
      breaker.shutdown();
      await store.close();
      process.exit(0);
    }
    const r = await breaker.fire(m).then((v) => `ok ${v}`, (e) => e.code || e.message);
    process.send({ r, opened: breaker.opened, halfOpen: breaker.halfOpen });
  });
  process.send('ready');
} else {
  const redis = redisForTests(test, RedisStore);
  const open = redis.open;

  function worker () {
    const child = fork(__filename, ['worker', redis.server.url]);
    const replies = [];
    const waiters = [];
    child.on('message', (m) => { const w = waiters.shift(); if (w) w(m); else replies.push(m); });
    const next = () => replies.length > 0 ? Promise.resolve(replies.shift()) : new Promise((resolve) => waiters.push(resolve));
    return { child, next, fire: (m) => { child.send(m); return next(); } };
  }

  test('three processes share one breaker: failures in one open it for all; half-open admits one probe across them', async () => {
    const ws = [worker(), worker(), worker()];
    try {
      await Promise.all(ws.map((w) => w.next()));
      assert.strictEqual((await ws[0].fire('x')).r, 'ok x');
      assert.strictEqual((await ws[0].fire('bad')).r, 'boom');
      const third = await ws[0].fire('bad');
      assert.strictEqual(third.r, 'boom');
      // the two other processes never failed, yet their breaker is open
      for (const w of ws.slice(1)) {
        const answer = await w.fire('x');
        assert.deepStrictEqual([answer.r, answer.opened], ['EOPENBREAKER', true]);
      }
      await sleep(OPTIONS.resetTimeout + 150);
      // all three fire at once: exactly one is the probe (it succeeds and
      // closes); it is slow, so the others ask while it is in flight
      const answers = await Promise.all(ws.map((w) => w.fire('slow')));
      assert.strictEqual(answers.filter((a) => a.r === 'ok slow').length, 1, JSON.stringify(answers));
      assert.strictEqual(answers.filter((a) => a.r === 'EOPENBREAKER').length, 2, JSON.stringify(answers));
      // closed for everyone after the probe passed (its outcome goes to
      // Redis one round trip after its fire() settled)
      await sleep(50);
      for (const w of ws) { const a = await w.fire('y'); assert.strictEqual(a.r, 'ok y', JSON.stringify([ws.indexOf(w), a, answers])); }
    } finally {
      for (const w of ws) w.child.send('exit');
      await Promise.all(ws.map((w) => new Promise((resolve) => w.child.once('exit', resolve))));
    }
  });

  test('events follow the shared state in a process that never failed', async () => {
    const a = new CircuitBreaker(action, { ...OPTIONS, store: open(), name: 'ev' });
    const b = new CircuitBreaker(action, { ...OPTIONS, store: open(), name: 'ev' });
    const seen = [];
    for (const ev of ['open', 'halfOpen', 'close']) b.on(ev, () => seen.push(ev));
    await a.fire('bad').catch(() => {});
    await a.fire('bad').catch(() => {});
    await assert.rejects(b.fire('x'), { code: 'EOPENBREAKER' });
    await sleep(OPTIONS.resetTimeout + 150);
    assert.strictEqual(await b.fire('x'), 'x');
    // the probe's outcome goes to Redis after the call settled: 'close'
    // comes with the answer, one round trip later (node/NOTES.md)
    await sleep(50);
    assert.deepStrictEqual(seen, ['open', 'halfOpen', 'close']);
    a.shutdown(); b.shutdown();
  });

  for (const onError of ['fail_open', 'fail_closed', 'local']) {
    test(`Redis stopped (SIGSTOP): ${onError} settles every fire() within the timeout`, async () => {
      const breaker = new CircuitBreaker(action, { ...OPTIONS, store: open({ timeout: 50, onError }), name: `stop-${onError}` });
      assert.strictEqual(await breaker.fire('x'), 'x');
      redis.server.proc.kill('SIGSTOP');
      try {
        let worst = 0;
        const results = [];
        // local: the in-process breaker (the same options) decides, so
        // failures open it here as they would without a store
        const arg = onError === 'local' ? 'bad' : 'x';
        for (let i = 0; i < 10; i++) {
          const t = Date.now();
          results.push(await breaker.fire(arg).then(() => 'ok', (e) => e.code || e.message));
          worst = Math.max(worst, Date.now() - t);
        }
        assert.ok(worst < 100, `a fire() took ${worst} ms with Redis stopped`);
        const want = { fail_open: ['ok'], fail_closed: ['EOPENBREAKER'], local: ['boom', 'EOPENBREAKER'] }[onError];
        assert.deepStrictEqual(new Set(results), new Set(want), JSON.stringify(results));
        if (onError === 'local') {
          assert.deepStrictEqual(results.slice(0, 2), ['boom', 'boom']);
          assert.strictEqual(breaker.opened, true);
        }
      } finally {
        redis.server.proc.kill('SIGCONT');
      }
      breaker.shutdown();
    });
  }

  test('bad input: a collision names the option', async () => {
    const a = new CircuitBreaker(action, { ...OPTIONS, store: open(), name: 'same' });
    assert.strictEqual(await a.fire('x'), 'x');
    const b = new CircuitBreaker(action, { ...OPTIONS, errorThresholdPercentage: 60, store: open(), name: 'same' });
    await assert.rejects(b.fire('x'), (e) => e.code === 'ERR_FUSEWIRE_CONFIG' && /already in Redis/.test(e.message) && /failure_rate/.test(e.field));
    a.shutdown(); b.shutdown();
  });

  test('a bulkhead in Redis: the limit holds across connections; sync methods say to await run()', async () => {
    const heads = [0, 1, 2].map(() => new Bulkhead({ limit: 3, store: open(), name: 'pool' }));
    let open_;
    const gate = new Promise((resolve) => { open_ = resolve; });
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(heads[i % 3].run(() => gate).then(() => 'ran', (e) => e.code));
    await sleep(100);
    open_();
    const results = await Promise.all(runs);
    assert.strictEqual(results.filter((r) => r === 'ran').length, 3, JSON.stringify(results));
    assert.strictEqual(results.filter((r) => r === 'EBULKHEADFULL').length, 3, JSON.stringify(results));
    await sleep(50); // the releases, sent after each run settled
    assert.strictEqual(await heads[0].run(async () => 'again'), 'again');
    for (const m of ['tryAcquire', 'acquireSlot', 'expire']) assert.throws(() => heads[0][m](), RedisStoreError, m);
  });

  test('a bulkhead in Redis: a SIGKILLed holder loses its slot within its lease', async () => {
    const child = fork(__filename, ['holder', redis.server.url]);
    await new Promise((resolve) => child.once('message', resolve));
    const mine = new Bulkhead({ limit: 1, lease: 600, store: open(), name: 'held' });
    await assert.rejects(mine.run(async () => 1), { code: 'EBULKHEADFULL' });
    child.kill('SIGKILL');
    const killed = Date.now();
    await new Promise((resolve) => child.once('exit', resolve));
    const back = await (async () => {
      for (;;) {
        const r = await mine.run(async () => Date.now()).catch(() => null);
        if (r !== null) return r;
        await sleep(20);
      }
    })();
    assert.ok(back - killed <= 600 + 150, `the slot came back ${back - killed} ms after the kill`);
  });

  for (const onError of ['fail_open', 'fail_closed', 'local']) {
    test(`a bulkhead with Redis stopped (SIGSTOP): ${onError} answers within the timeout`, async () => {
      const head = new Bulkhead({ limit: 1, store: open({ timeout: 50, onError }), name: `bh-${onError}` });
      redis.server.proc.kill('SIGSTOP');
      try {
        const t = Date.now();
        let inner = null;
        const r = await head.run(async () => {
          // local: the in-process bulkhead's one slot is held now
          if (onError === 'local') inner = await head.run(async () => 'ran').catch((e) => e.code);
          return 'ran';
        }).catch((e) => e.code);
        assert.ok(Date.now() - t < 200, `took ${Date.now() - t} ms`);
        assert.strictEqual(r, onError === 'fail_closed' ? 'EBULKHEADFULL' : 'ran');
        if (onError === 'local') assert.strictEqual(inner, 'EBULKHEADFULL');
      } finally {
        redis.server.proc.kill('SIGCONT');
      }
    });
  }
}
