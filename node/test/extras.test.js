'use strict';

// What fusewire adds to opossum: opt-in breaker options, run-time changes,
// retry / TokenBucket / Bulkhead, clear errors for bad input.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const CircuitBreaker = require('..');
const { retry, RetrySchedule, TokenBucket, Bulkhead } = CircuitBreaker;

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const boom = async () => { throw new Error('boom'); };
const Q = { enableSnapshots: false };

describe('breaker extras', () => {
  it('halfOpenProbes lets several probes through; all must pass to close', async () => {
    let release = [];
    const b = new CircuitBreaker(() => new Promise(r => release.push(r)), { halfOpenProbes: 2, resetTimeout: 10, ...Q });
    b.open();
    await sleep(40);
    assert.equal(b.halfOpen, true);
    const p1 = b.fire();
    const p2 = b.fire();
    assert.equal(b.halfOpenProbesInFlight, 2);
    await assert.rejects(b.fire(), { code: 'EOPENBREAKER' });
    release[0]('a');
    await p1;
    assert.equal(b.halfOpen, true, 'one of two probes passed');
    assert.equal(b.halfOpenProbesInFlight, 1);
    release[1]('b');
    await p2;
    assert.equal(b.closed, true);
    release = [];
  });

  it('slidingWindowSize judges the threshold over the last N calls', async () => {
    let fail = false;
    const b = new CircuitBreaker(async () => { if (fail) throw new Error('boom'); return 'ok'; },
      { slidingWindowSize: 4, errorThresholdPercentage: 50, ...Q });
    for (let i = 0; i < 10; i++) await b.fire();
    fail = true;
    await b.fire().catch(() => {});
    await b.fire().catch(() => {});
    assert.equal(b.closed, true, '2 of the last 4 calls failed: 50% is not above 50%');
    await b.fire().catch(() => {});
    assert.equal(b.opened, true, '3 of the last 4 failed');
    // opossum's own rule over the time window would still be at 3/13 here
    assert.ok(b.stats.failures / b.stats.fires < 0.5);
    b.close();
    fail = false;
    b.configure({ slidingWindowSize: undefined });
    await b.fire();
    assert.equal(b.closed, true);
  });

  it('slidingWindowSize is checked', () => {
    for (const bad of [0, 1.5, -1, 'x', 2 ** 21]) {
      assert.throws(() => new CircuitBreaker(async () => 1, { slidingWindowSize: bad }),
        /slidingWindowSize must be an integer from 1 to/);
    }
  });

  it('resetBackoff grows the open duration on each reopening', async () => {
    const b = new CircuitBreaker(boom, { resetTimeout: 20, resetBackoff: { factor: 4, max: 1000 }, ...Q });
    const opened = [];
    b.on('open', () => opened.push(Date.now()));
    const halfOpened = [];
    b.on('halfOpen', () => halfOpened.push(Date.now()));
    await b.fire().catch(() => {});
    await sleep(50);
    assert.equal(b.halfOpen, true, 'first open lasts 20 ms');
    await b.fire().catch(() => {});
    assert.equal(b.opened, true);
    await sleep(50);
    assert.equal(b.opened, true, 'second open lasts 80 ms');
    await sleep(80);
    assert.equal(b.halfOpen, true);
    b.shutdown();
  });

  it('consecutiveFailures trips after N failures in a row, whatever the rate', async () => {
    let fail = false;
    const b = new CircuitBreaker(async () => { if (fail) throw new Error('x'); }, {
      consecutiveFailures: 3, errorThresholdPercentage: 100, ...Q
    });
    for (let i = 0; i < 10; i++) await b.fire();
    fail = true;
    await b.fire().catch(() => {});
    await b.fire().catch(() => {});
    assert.equal(b.closed, true);
    await b.fire().catch(() => {});
    assert.equal(b.opened, true);
  });

  it('perCallSignal passes an AbortSignal last, aborted on timeout', async () => {
    let seen;
    const b = new CircuitBreaker((x, signal) => { seen = signal; return sleep(50); }, { perCallSignal: true, timeout: 5, ...Q });
    await assert.rejects(b.fire(1), { code: 'ETIMEDOUT' });
    assert.ok(seen instanceof AbortSignal);
    assert.equal(seen.aborted, true);
    assert.equal(seen.reason.code, 'ETIMEDOUT');
  });

  it('configure() changes options at run time, keeping state and counts', async () => {
    const b = new CircuitBreaker(boom, { errorThresholdPercentage: 100, ...Q });
    await b.fire().catch(() => {});
    assert.equal(b.closed, true);
    b.configure({ errorThresholdPercentage: 10 });
    assert.equal(b.stats.failures, 1);
    await b.fire().catch(() => {});
    assert.equal(b.opened, true);
    b.configure({ resetTimeout: 5 });
    assert.equal(b.opened, true);
    assert.throws(() => b.configure({ halfOpenProbes: 0 }), /halfOpenProbes/);
    b.shutdown();
  });

  it('assigning options.errorThresholdPercentage works as in opossum', async () => {
    const b = new CircuitBreaker(boom, { errorThresholdPercentage: 100, ...Q });
    await b.fire().catch(() => {});
    b.options.errorThresholdPercentage = 1;
    await b.fire().catch(() => {});
    assert.equal(b.opened, true);
  });

  it('bad extras throw clear TypeErrors', () => {
    const bad = [
      [{ halfOpenProbes: 0 }, /halfOpenProbes must be an integer of at least 1/],
      [{ consecutiveFailures: 1.5 }, /consecutiveFailures must be an integer/],
      [{ perCallSignal: 'yes' }, /perCallSignal must be a boolean/],
      [{ resetBackoff: 3 }, /resetBackoff must be an object/],
      [{ resetBackoff: { factor: 0.5 } }, /factor must be a number of at least 1/],
      [{ resetBackoff: { jitter: 'wild' } }, /jitter must be one of/]
    ];
    for (const [options, message] of bad) {
      assert.throws(() => new CircuitBreaker(async () => {}, options), { name: 'TypeError', message });
    }
    assert.throws(() => new CircuitBreaker(async () => {}, { rollingCountBuckets: 2000 }),
      { name: 'RangeError', field: 'rollingCountBuckets', message: /from 1 to 1024/ });
    for (const [options] of bad) {
      assert.throws(() => new CircuitBreaker(async () => {}, options), e => typeof e.field === 'string' && e.message.includes(`options.${e.field} `));
    }
  });

  it('a failing call costs O(1): 20k calls in the window, failures stay cheap', async () => {
    const b = new CircuitBreaker(async () => {}, { errorThresholdPercentage: 100, ...Q });
    for (let i = 0; i < 20000; i++) await b.fire();
    b.action = boom;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) await b.fire().catch(() => {});
    const perCall = Number(process.hrtime.bigint() - t0) / 1000;
    assert.ok(perCall < 200000, `failing call took ${perCall} ns`);
    assert.equal(b.stats.fires, 21000);
  });

  it('native memory is fixed per breaker', () => {
    const b = new CircuitBreaker(async () => {}, Q);
    const bytes = b.status._engine.footprint();
    assert.ok(bytes < 64 * 1024, `${bytes} bytes`);
  });
});

describe('retry', () => {
  it('retries until success, with the schedule from the core', async () => {
    let n = 0;
    const delays = [];
    const v = await retry(async attempt => { if (++n < 3) throw new Error('again'); return attempt; }, {
      maxAttempts: 5, backoff: { kind: 'constant', base: 5 }, onRetry: (e, a, d) => delays.push(d)
    });
    assert.equal(v, 3);
    assert.deepEqual(delays, [5, 5]);
  });

  it('gives up after maxAttempts with the last error; retryOn can stop it', async () => {
    let n = 0;
    await assert.rejects(retry(async () => { n++; throw new Error(`e${n}`); }, { maxAttempts: 3, backoff: { base: 1 } }), /e3/);
    n = 0;
    await assert.rejects(retry(async () => { n++; throw new Error('fatal'); }, { retryOn: () => false }), /fatal/);
    assert.equal(n, 1);
  });

  it('delays: exponential, capped, reproducible with a seed', () => {
    assert.deepEqual(retry.delays({ maxAttempts: 6, backoff: { kind: 'exponential', base: 100, factor: 2, max: 1000 } }),
      [100, 200, 400, 800, 1000]);
    const jittered = { maxAttempts: 10, seed: 7, backoff: { base: 100, max: 5000, jitter: 'full' } };
    assert.deepEqual(retry.delays(jittered), retry.delays(jittered));
    assert.throws(() => retry.delays({ backoff: { kind: 'sideways' } }), TypeError);
    assert.throws(() => retry.delays({ maxAttempts: 0 }), TypeError);
  });
});

describe('TokenBucket', () => {
  it('takes up to burst, then waits for the refill', async () => {
    const bucket = new TokenBucket({ burst: 2, tokens: 1, period: 20 });
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), true);
    assert.equal(bucket.tryTake(), false);
    const t0 = Date.now();
    await bucket.take();
    assert.ok(Date.now() - t0 >= 10);
    await assert.rejects(bucket.take(3), { code: 'ERANGE' });
    assert.throws(() => new TokenBucket({ burst: 0 }), { name: 'TypeError', field: 'burst' });
    assert.throws(() => new TokenBucket({ burst: 2, period: 0 }), { name: 'TypeError', field: 'period' });
  });
});

describe('Bulkhead', () => {
  it('runs up to the limit, fails fast beyond, keeps the critical reserve', async () => {
    const bh = new Bulkhead({ limit: 2, reserveCritical: 1 });
    let release;
    const held = bh.run(() => new Promise(r => { release = r; }));
    assert.equal(bh.inUse, 1);
    await assert.rejects(bh.run(async () => 1), { code: 'EBULKHEADFULL' });
    assert.equal(await bh.run(async () => 'vip', { priority: 'critical' }), 'vip');
    release();
    await held;
    assert.equal(bh.inUse, 0);
    assert.throws(() => bh.tryAcquire('urgent'), TypeError);
    // named in the options' words (it was the core's reserve_critical, an untyped Error)
    assert.throws(() => new Bulkhead({ limit: 2, reserveCritical: 2 }), (e) => e instanceof TypeError &&
      e.code === 'ERR_FUSEWIRE_CONFIG' && e.field === 'reserveCritical' && e.problem === 'inconsistent' && /reserveCritical/.test(e.message));
  });
});

describe('retry: seeds and budget', () => {
  const { RetryBudget } = CircuitBreaker;
  const jittered = { maxAttempts: 6, backoff: { kind: 'exponential', base: 1000, max: 60000, jitter: 'full' } };

  it('each operation draws its own jitter seed from entropy unless given one', () => {
    const runs = Array.from({ length: 4 }, () => retry.delays(jittered, 5).join(','));
    assert.ok(new Set(runs).size > 1, `every operation jittered alike: ${runs[0]}`);
    const seeded = Array.from({ length: 3 }, () => retry.delays({ ...jittered, seed: 7 }, 5).join(','));
    assert.equal(new Set(seeded).size, 1, 'a given seed reproduces the delays');
  });

  it('a shared RetryBudget decides with the schedule: refused retries give up with reason budget', async () => {
    const budget = new RetryBudget({ maxTokens: 4, tokenRatio: 1 });
    const schedule = new RetrySchedule({ maxAttempts: 10, backoff: { kind: 'constant', base: 1 }, budget, seed: 1 });
    schedule.start(0);
    assert.equal(schedule.decide(0).decision, 'retryAfter');
    assert.deepEqual(schedule.decide(1), { decision: 'giveUp', reason: 'budget' });
    assert.equal(budget.throttled, 1);
    let calls = 0;
    await assert.rejects(retry(async () => { calls++; throw new Error('down'); },
      { maxAttempts: 10, backoff: { kind: 'constant', base: 1 }, budget }));
    assert.equal(calls, 1, 'the spent budget allows no retry');
  });

  it('an advertised wait longer than the retry may wait gives up (waitTooLong)', () => {
    const s = new RetrySchedule({ maxAttempts: 5, backoff: { kind: 'constant', base: 10, max: 100 }, seed: 1 });
    s.start(0);
    assert.deepEqual(s.decide(0, 5000), { decision: 'giveUp', reason: 'waitTooLong' });
  });
});
