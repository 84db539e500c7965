'use strict';

// fusewire/cockatiel beyond the README: fusewire's policies mixed into
// wrap(), state carried over from cockatiel itself, the core behind the
// breakers, the shared timeout timer, bad input. Clocks are node:test's
// mock timers (setTimeout and Date); TokenBucket and the breakers read
// Date.now(), so the core sees the same fake time.

const { describe, it, mock, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');

const c = require('../cockatiel');
const { TokenBucket, RetryBudget, Pool } = require('..');

const flush = () => new Promise(resolve => setImmediate(resolve));

describe('fusewire/cockatiel', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_700_000_000_000 }));
  afterEach(() => mock.timers.reset());

  it('a fusewire TokenBucket composes into wrap(): refused with the core\'s exact wait, then refilled', async () => {
    const bucket = new TokenBucket({ burst: 2, tokens: 1, period: 1000 });
    const calls = [];
    const policy = c.wrap(c.tokenBucket(bucket), c.retry(c.handleAll, { maxAttempts: 1 }));
    assert.equal(await policy.execute(() => 'a'), 'a');
    assert.equal(await policy.execute(() => 'b'), 'b');
    const e = await policy.execute(() => calls.push('c')).catch(x => x);
    assert.ok(c.isTokenBucketRejectedError(e));
    assert.equal(e.retryAfter, 1000);
    assert.deepEqual(calls, []);
    mock.timers.tick(1000);
    assert.equal(await policy.execute(() => 'd'), 'd');
  });

  it('tokenBucket({ wait: true }) waits for a token, and an abort cancels the wait', async () => {
    const bucket = new TokenBucket({ burst: 1, tokens: 1, period: 500 });
    const policy = c.tokenBucket(bucket, { wait: true });
    await policy.execute(() => 1);
    let done = false;
    const p = policy.execute(() => { done = true; return 2; });
    await flush();
    assert.equal(done, false);
    mock.timers.tick(500);
    assert.equal(await p, 2);
    const ac = new AbortController();
    const q = policy.execute(() => 3, ac.signal).catch(x => x);
    await flush();
    ac.abort();
    assert.ok(c.isTaskCancelledError(await q));
  });

  it('a fusewire Pool composes into wrap(): the endpoint comes in the context, a failed endpoint fails over', async () => {
    const endpoints = new Pool(['a', 'b'], { seed: 7, retries: 1 });
    try {
      const breaker = c.circuitBreaker(c.handleAll, { halfOpenAfter: 1000, breaker: new c.ConsecutiveBreaker(3) });
      const policy = c.wrap(breaker, c.pool(endpoints));
      const seen = [];
      for (let i = 0; i < 4; i++) {
        const got = await policy.execute(({ endpoint, signal }) => {
          seen.push(endpoint);
          assert.ok(signal instanceof AbortSignal);
          if (endpoint === 'a') throw new Error('a is down');
          return endpoint;
        });
        assert.equal(got, 'b');
      }
      assert.ok(seen.includes('b'));
      assert.equal(breaker.state, c.CircuitState.Closed);
      assert.equal(endpoints.stats(1).url, 'b');
      const ac = new AbortController();
      ac.abort();
      assert.ok(c.isTaskCancelledError(await c.pool(endpoints).execute(() => 1, ac.signal).catch(e => e)));
      assert.throws(() => c.pool({}), TypeError);
    } finally {
      endpoints.close();
    }
  });

  it('retry({ budget }): a shared fusewire RetryBudget refuses retries once it is half spent', async () => {
    const budget = new RetryBudget({ maxTokens: 4, tokenRatio: 0.1 });
    const policy = c.retry(c.handleAll, { maxAttempts: 10, budget });
    const gaveUp = [];
    policy.onGiveUp(r => gaveUp.push(r.error.message));
    let attempts = 0;
    const p = policy.execute(() => { attempts++; throw new Error('down'); }).catch(e => e.message);
    for (let i = 0; i < 5; i++) { mock.timers.tick(1); await flush(); }
    assert.equal(await p, 'down');
    // 4 tokens: the first failure leaves 3 (> 2: retry), the second 2 (not more than half: give up)
    assert.equal(attempts, 2);
    assert.deepEqual(gaveUp, ['down']);
    assert.equal(budget.throttled, 1);
    assert.throws(() => c.retry(c.handleAll, { budget: {} }), TypeError);
  });

  it('ConsecutiveBreaker: the core counts failures in a row; a success resets it', () => {
    const b = new c.ConsecutiveBreaker(3);
    assert.deepEqual([b.failure(), b.failure()], [false, false]);
    b.success();
    assert.deepEqual([b.failure(), b.failure(), b.failure()], [false, false, true]);
    assert.equal(b.state, 3);
  });

  it('CountBreaker takes cockatiel\'s own serialised window as initialState', async () => {
    const real = await import('cockatiel');
    const opts = { threshold: 0.5, size: 4 };
    const theirs = real.circuitBreaker(real.handleAll, { halfOpenAfter: 1000, breaker: new real.CountBreaker(opts) });
    for (const fail of [false, true, false, true]) await theirs.execute(() => { if (fail) throw new Error('x'); }).catch(() => 0);
    const state = JSON.parse(JSON.stringify(theirs.toJSON()));
    const ours = c.circuitBreaker(c.handleAll, { halfOpenAfter: 1000, breaker: new c.CountBreaker(opts), initialState: state });
    // window [s f s f]: one more failure replaces the oldest success -> 3 of 4 failed > 50%
    await ours.execute(() => { throw new Error('x'); }).catch(() => 0);
    assert.equal(ours.state, c.CircuitState.Open);
  });

  it('CountBreaker: cockatiel\'s samples, currentSample and counts are views of the core\'s ring, slot by slot, through a save and restore', async () => {
    const real = await import('cockatiel');
    const opts = { threshold: 0.5, size: 5 };
    const theirs = new real.CountBreaker(opts);
    let ours = new c.CountBreaker(opts);
    for (let i = 0; i < 9; i++) {
      for (const b of [theirs, ours]) if (i % 3 === 0) b.failure(c.CircuitState.Closed); else b.success(c.CircuitState.Closed);
      const saved = JSON.parse(JSON.stringify(ours.state));
      ours = new c.CountBreaker(opts);
      ours.state = saved;
    }
    assert.deepEqual(ours.state, theirs.state);
    assert.deepEqual([ours.samples, ours.currentSample, ours.successes, ours.failures], [theirs.samples, theirs.currentSample, theirs.successes, theirs.failures]);
    // cockatiel's state restored into ours, and the reset of a half-open success
    const mine = new c.CountBreaker(opts);
    mine.state = theirs.state;
    for (const b of [theirs, mine]) b.success(c.CircuitState.HalfOpen);
    assert.deepEqual(mine.state, theirs.state);
  });

  it('a closed breaker counts failures the core allows in JS, and still opens on the very failure cockatiel opens on', async () => {
    const real = await import('cockatiel');
    const seq = [...'ssffsffffsfsfffffsssffffffffff'];
    const trace = async (lib, breaker) => {
      const p = lib.circuitBreaker(lib.handleAll, { halfOpenAfter: 1000, breaker });
      const out = [];
      for (const x of seq) {
        out.push(await p.execute(() => { if (x === 'f') throw new Error('f'); return 's'; }).catch(e => e.constructor.name === 'Error' ? 'f' : e.constructor.name));
      }
      return [out.join(','), JSON.stringify(p.toJSON().breakerState)];
    };
    for (const make of [l => new l.ConsecutiveBreaker(4), l => new l.CountBreaker({ threshold: 0.6, size: 10, minimumNumberOfCalls: 6 })]) {
      const [a, b] = [await trace(real, make(real)), await trace(c, make(c))];
      assert.equal(b[0], a[0]);
      assert.equal(b[1], a[1]);
    }
  });

  it('random runs of outcomes and pauses: the same answers, states and events as cockatiel (ConsecutiveBreaker, CountBreaker, halfOpenSampling)', async () => {
    const real = await import('cockatiel');
    let seed = 0x9e3779b9;
    const rand = (n) => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed % n; };
    const makers = [
      l => new l.ConsecutiveBreaker(1 + rand(4)),
      l => new l.CountBreaker({ threshold: 0.2 + rand(6) / 10, size: 3 + rand(8), minimumNumberOfCalls: 1 + rand(3) })
    ];
    for (let run = 0; run < 24; run++) {
      const choice = rand(2);
      const seedAt = seed;
      const calls = rand(3) === 0 ? { calls: 1 + rand(3), threshold: rand(5) / 10 } : undefined;
      const plan = Array.from({ length: 80 }, () => ({ fail: rand(3) !== 0 || rand(2) === 0, pause: [0, 0, 1, 50, 400][rand(5)] }));
      const traces = [];
      for (const lib of [real, c]) {
        seed = seedAt;
        const breaker = makers[choice](lib);
        const p = lib.circuitBreaker(lib.handleAll, { halfOpenAfter: 300, breaker, ...(calls ? { halfOpenSampling: calls } : {}) });
        const t = [];
        const t0 = Date.now();
        p.onStateChange(s => t.push('state' + s));
        p.onBreak(() => t.push('break'));
        for (const { fail, pause } of plan) {
          t.push(await p.execute(() => { if (fail) throw new Error('f'); return 's'; }).catch(e => e.constructor.name));
          if (pause) mock.timers.tick(pause);
        }
        const own = p.toJSON().ownState;
        t.push(JSON.stringify({ ...own, openedAt: own.openedAt ? own.openedAt - t0 : own.openedAt }));
        traces.push(t.join(' '));
      }
      assert.equal(traces[1], traces[0], `run ${run}`);
    }
  });

  it('SamplingBreaker: calls older than the window no longer count (the core\'s time window)', async () => {
    const breaker = new c.SamplingBreaker({ threshold: 0.5, duration: 10000, minimumRps: 1 });
    // 10 calls needed (10 s at 1 rps); 9 failures now
    for (let i = 0; i < 9; i++) assert.equal(breaker.failure(c.CircuitState.Closed), false);
    mock.timers.tick(11000);
    for (let i = 0; i < 9; i++) breaker.success(c.CircuitState.Closed);
    // the 9 old failures are gone: 1 failure of 10 calls
    assert.equal(breaker.failure(c.CircuitState.Closed), false);
    const { currentFailures, currentSuccesses, windows, currentWindow } = breaker.state;
    assert.deepEqual({ currentFailures, currentSuccesses }, { currentFailures: 1, currentSuccesses: 9 });
    // cockatiel's private fields, as views of the core's buckets: 10 of 1 s,
    // each in the slot of its time (start / 1 s, round the ring); the
    // newest holds this second's calls, the others are unused
    const second = Math.floor(Date.now() / 1000);
    assert.equal(windows.length, 10);
    assert.equal(currentWindow, second % 10);
    assert.equal(breaker.currentWindow, second % 10);
    assert.deepEqual(windows[second % 10], { startedAt: second * 1000, failures: 1, successes: 9 });
    assert.deepEqual(windows[(second + 1) % 10], { startedAt: 0, failures: 0, successes: 0 });
    assert.deepEqual([breaker.currentFailures, breaker.currentSuccesses], [1, 9]);
    // a save and restore puts every call back in the bucket of its time
    const copy = new c.SamplingBreaker({ threshold: 0.5, duration: 10000, minimumRps: 1 });
    copy.state = JSON.parse(JSON.stringify(breaker.state));
    assert.deepEqual(copy.state, breaker.state);
  });

  it('timeouts share one timer per policy, fire in order, and leave no timer behind', async () => {
    const t = c.timeout(100, c.TimeoutStrategy.Aggressive);
    const fired = [];
    t.onTimeout(() => fired.push(Date.now()));
    const hang = () => new Promise(() => {});
    const first = t.execute(hang).catch(e => e.message);
    mock.timers.tick(30);
    const second = t.execute(hang).catch(e => e.message);
    const quick = t.execute(() => 'quick');
    assert.equal(await quick, 'quick');
    mock.timers.tick(70);
    await flush();
    assert.equal(await first, 'Operation timed out after 100ms');
    mock.timers.tick(30);
    await flush();
    assert.equal(await second, 'Operation timed out after 100ms');
    assert.deepEqual(fired.map(x => x - 1_700_000_000_000), [100, 130]);
    assert.equal(t.deadlines.timer, null);
    assert.equal(t.deadlines.head, null);
  });

  it('a timeout given as a string or out of range is read as setTimeout reads it, for every call in flight', async () => {
    const t = c.timeout('100', c.TimeoutStrategy.Aggressive);
    const hang = () => new Promise(() => {});
    const a = t.execute(hang).catch(e => Date.now() - 1_700_000_000_000);
    mock.timers.tick(10);
    const b = t.execute(hang).catch(e => Date.now() - 1_700_000_000_000);
    for (let i = 0; i < 120; i++) { mock.timers.tick(1); await flush(); }
    assert.deepEqual([await a, await b], [100, 110]);
    const z = c.timeout(-5, c.TimeoutStrategy.Aggressive);
    const p = z.execute(hang).catch(e => e.message);
    mock.timers.tick(1);
    assert.equal(await p, 'Operation timed out after -5ms');
  });

  it('bulkhead slots are the core Bulkhead\'s; a capacity it cannot hold counts in JS as cockatiel does', async () => {
    const b = c.bulkhead(2);
    let release;
    const held = b.execute(() => new Promise(resolve => { release = resolve; }));
    assert.equal(b.core.inUse, 1);
    assert.equal(b.executionSlots, 1);
    release();
    await held;
    assert.equal(b.executionSlots, 2);
    const zero = c.bulkhead(0);
    assert.ok(c.isBulkheadRejectedError(await zero.execute(() => 1).catch(e => e)));
  });

  it('bad breaker options throw cockatiel\'s RangeErrors; NaN thresholds never trip, as in cockatiel', () => {
    assert.throws(() => new c.CountBreaker({ threshold: 0.5, size: 2 ** 21 }), /at most 1048576/);
    const nan = new c.ConsecutiveBreaker(NaN);
    for (let i = 0; i < 5; i++) assert.equal(nan.failure(), false);
    const never = new c.CountBreaker({ threshold: NaN, size: 2 });
    for (let i = 0; i < 5; i++) assert.equal(never.failure(c.CircuitState.Closed), false);
    assert.throws(() => new c.CountBreaker({ threshold: Infinity, size: 2 }), RangeError);
  });
});
