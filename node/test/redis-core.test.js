'use strict';

// The core Breaker and the RetryBudget with { store: RedisStore, name }:
// their decision methods return promises, decided by the same Redis scripts
// Python's doors run, against a real redis-server on loopback.

const test = require('node:test');
const assert = require('node:assert');
const Redis = require('ioredis');
const { RedisStore, Breaker, RetryBudget, retry, RetrySchedule, RedisStoreError } = require('..');
const { redisForTests } = require('./redis-server');

const redis = redisForTests(test, RedisStore);
const open = redis.open;

async function scriptsRun () {
  const admin = new Redis(redis.server.url);
  const stats = await admin.info('commandstats');
  admin.disconnect();
  return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const fails = async () => { throw new Error('down'); };
const BACKOFF = { kind: 'constant', base: 1 };

test('retry() with a RetryBudget in Redis decides as the in-process budget, one round trip per failure', async () => {
  const here = new RetryBudget({ maxTokens: 4, tokenRatio: 0.5 });
  const there = new RetryBudget({ maxTokens: 4, tokenRatio: 0.5, store: open(), name: 'b' });
  const runs = { here: [], there: [] };
  for (const [key, budget] of [['here', here], ['there', there]]) {
    for (let i = 0; i < 3; i++) {
      let attempts = 0;
      await assert.rejects(retry(() => { attempts++; return fails(); }, { budget, maxAttempts: 4, backoff: BACKOFF, seed: 1 }), /down/);
      runs[key].push(attempts);
    }
    assert.strictEqual(await retry(async () => 'ok', { budget, backoff: BACKOFF }), 'ok');
  }
  assert.deepStrictEqual(runs.there, runs.here);
  assert.ok(runs.here.some((n) => n < 4), `the budget refused a retry: ${runs.here}`);
  // a second process's view (another connection) is the same budget
  const other = new RetryBudget({ maxTokens: 4, tokenRatio: 0.5, store: open(), name: 'b' });
  assert.strictEqual(await other.tryRetry(), here.canRetry);
  assert.deepStrictEqual([other.tokensMilli, other.throttled], [here.tokensMilli, here.throttled + (here.canRetry ? 0 : 1)]);

  const roomy = new RetryBudget({ maxTokens: 100, store: open(), name: 'trips' });
  const before = await scriptsRun();
  await assert.rejects(retry(fails, { budget: roomy, maxAttempts: 6, backoff: BACKOFF }), /down/);
  // 5 failures asked for a retry (failure_retry), the 6th was counted alone
  assert.strictEqual(await scriptsRun() - before, 6);
});

test('a RetryBudget in Redis: promise methods, shared by connections; sync schedule calls say to await', async () => {
  const a = new RetryBudget({ maxTokens: 2, tokenRatio: 1, store: open(), name: 'k' });
  const b = new RetryBudget({ maxTokens: 2, tokenRatio: 1, store: open(), name: 'k' });
  assert.strictEqual(await a.tryRetry(), true);
  await a.recordFailure();
  assert.strictEqual(await b.tryRetry(), false); // 1 token of 2 is not more than half
  assert.strictEqual(b.throttled, 1);
  await b.recordSuccess();
  assert.strictEqual(await a.tryRetry(), true);
  assert.strictEqual(a.tokens, 2);
  const schedule = new RetrySchedule({ budget: a });
  schedule.start();
  assert.throws(() => schedule.next(), RedisStoreError);
  // the failure costs a token (1 of 2 left: not more than half), so the
  // store refuses the retry: the core's reason is the budget
  assert.deepStrictEqual(await schedule.decideAsync(), { decision: 'giveUp', reason: 'budget' });
  assert.deepStrictEqual([a.tokens, a.throttled], [1, 2]);
});

test('the core Breaker in Redis: promises, string permits, state shared by connections', async () => {
  const options = { minCalls: 2, failureRate: 50, openBackoff: { kind: 'constant', base: 300 } };
  const a = new Breaker({ ...options, store: open(), name: 'core' });
  const b = new Breaker({ ...options, store: open(), name: 'core' });
  const p1 = await a.tryAcquire();
  assert.strictEqual(p1.admitted, true);
  assert.strictEqual(typeof p1.permit, 'string');
  assert.strictEqual(await a.record(p1.permit, 'failure', 5), null);
  const p2 = await b.tryAcquire();
  const moved = await b.record(p2.permit, 'failure', 5);
  assert.deepStrictEqual(moved, { from: 'closed', to: 'open', reason: 'failureRate' });
  const refused = await a.tryAcquire();
  assert.strictEqual(refused.admitted, false);
  assert.ok(refused.retryAfter > 200 && refused.retryAfter <= 300, `retryAfter ${refused.retryAfter}`);
  assert.strictEqual(a.state, 'open');
  const snap = await a.snapshot();
  assert.strictEqual(snap.state, 'open');
  assert.strictEqual(snap.counts.failures, 2);
  assert.ok(snap.openUntil - snap.since === 300, JSON.stringify(snap));
  // a permit handed back twice is refused by the script, nothing moves
  assert.strictEqual(await b.release(p2.permit), null);
  assert.throws(() => a.record(12, 'success'), (e) => e.field === 'permit');
  assert.deepStrictEqual(await a.close(), { from: 'open', to: 'closed', reason: 'host' });
  assert.strictEqual((await b.snapshot()).state, 'closed');
  assert.deepStrictEqual(await b.forceOpen(), { from: 'closed', to: 'forcedOpen', reason: 'host' });
  assert.strictEqual((await a.tryAcquire()).admitted, false);
  assert.deepStrictEqual(await a.reset(), { from: 'forcedOpen', to: 'closed', reason: 'host' });
});

test('the core Breaker in Redis: a seed gives the open durations of the in-process breaker', async () => {
  const options = {
    minCalls: 1,
    seed: 1234,
    openBackoff: { kind: 'exponential', base: 100, factor: 2, max: 60000, jitter: 'full' }
  };
  const durations = async (breaker, t) => {
    const out = [];
    for (let i = 0; i < 6; i++) {
      if (i > 0) await breaker.halfOpen(t);
      const p = await breaker.tryAcquire(t);
      await breaker.record(p.permit, 'failure', 0, t);
      const s = await breaker.snapshot(t);
      out.push(s.openUntil - s.since);
    }
    return out;
  };
  const here = await durations(new Breaker(options), 0);
  const there = await durations(new Breaker({ ...options, store: open(), name: 'seeded' }));
  assert.ok(new Set(here).size > 3, `jittered: ${here}`);
  // Redis counts in µs, this door in ms: equal to the millisecond
  for (let i = 0; i < here.length; i++) assert.ok(Math.abs(there[i] - here[i]) <= 1, `${there} vs ${here}`);
});

for (const onError of ['fail_open', 'fail_closed', 'local']) {
  test(`the core Breaker and a RetryBudget with Redis stopped (SIGSTOP): ${onError} answers within the timeout`, async () => {
    const store = open({ timeout: 50, onError });
    const breaker = new Breaker({ minCalls: 2, store, name: `stop-${onError}` });
    const budget = new RetryBudget({ maxTokens: 4, store, name: `stop-${onError}` });
    assert.strictEqual((await breaker.tryAcquire()).admitted, true);
    redis.server.proc.kill('SIGSTOP');
    try {
      const t = Date.now();
      const answers = [];
      for (let i = 0; i < 4; i++) {
        const a = await breaker.tryAcquire();
        answers.push(a.admitted);
        if (a.admitted) await breaker.record(a.permit, 'failure', 1);
      }
      let attempts = 0;
      await assert.rejects(retry(() => { attempts++; return fails(); }, { budget, maxAttempts: 5, backoff: BACKOFF }), /down/);
      assert.ok(Date.now() - t < 400, `took ${Date.now() - t} ms`);
      // fail_open admits and retries; fail_closed refuses both; local
      // decides in process: two failures open its breaker, the budget of
      // 4 lets one retry go (3 tokens left), not a second (2 is not more than half)
      const want = { fail_open: [[true, true, true, true], 5], fail_closed: [[false, false, false, false], 1], local: [[true, true, false, false], 2] }[onError];
      assert.deepStrictEqual([answers, attempts], want);
    } finally {
      redis.server.proc.kill('SIGCONT');
    }
  });
}
