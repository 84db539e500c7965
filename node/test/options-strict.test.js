'use strict';

// fusewire's own policies and stores, configured badly the way users do:
// misspelled options, numbers from environment variables (strings), huge
// integers the native u32 would wrap, Infinity and NaN. Each is a TypeError
// with code ERR_FUSEWIRE_CONFIG naming the option, never a silent default.
// (opossum's CircuitBreaker keeps opossum's coercions: extras.test.js.)

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { Breaker, Backoff, RetryBudget, TokenBucket, Bulkhead, HostStore, RedisStore } = require('..');

const named = (field, pattern) => (e) => {
  assert.ok(e instanceof TypeError, `a TypeError, got ${e}`);
  assert.equal(e.code, 'ERR_FUSEWIRE_CONFIG');
  assert.equal(e.field, field);
  if (pattern) assert.match(e.message, pattern);
  return true;
};

describe('misspelled options are refused, naming the option and the likely one', () => {
  const cases = [
    ['TokenBucket', () => new TokenBucket({ burst: 5, stroe: {}, name: 'api' }), 'stroe', /did you mean store\?/],
    ['TokenBucket', () => new TokenBucket({ brust: 5 }), 'brust', /did you mean burst\?/],
    ['Bulkhead', () => new Bulkhead({ limit: 2, leese: 100 }), 'leese', /did you mean lease\?/],
    ['Breaker', () => new Breaker({ minCall: 5 }), 'minCall', /did you mean minCalls\?/],
    ['Breaker window', () => new Breaker({ window: { spam: 1000 } }), 'spam', /did you mean span\?/],
    ['Breaker openBackoff', () => new Breaker({ openBackoff: { bass: 10 } }), 'bass', /did you mean base\?/],
    ['Backoff', () => new Backoff({ jiter: 'full' }), 'jiter', /did you mean jitter\?/],
    ['RetryBudget', () => new RetryBudget({ maxtokens: 3 }), 'maxtokens', /did you mean maxTokens\?/],
    ['RedisStore', () => new RedisStore('redis://127.0.0.1:1', { onerror: 'fail_closed' }), 'onerror', /did you mean onError\?/],
    ['HostStore', () => new HostStore('fusewire-strict-test', { sise: 4096 }), 'sise', /did you mean size\?/]
  ];
  for (const [what, make, field, pattern] of cases) {
    it(`${what}: ${field}`, () => assert.throws(make, named(field, pattern)));
  }

  it('an option given as undefined (a spread default) is not an error', () => {
    const b = new TokenBucket({ burst: 2, tokens: undefined, bogus: undefined });
    assert.equal(b.tryTake(), true);
  });
});

describe('numbers: strings, huge integers, Infinity and NaN', () => {
  it('TokenBucket burst and tokens above 2^32 - 1 are refused, not wrapped', () => {
    // the native u32 took 2 ** 32 + 5 as 5: a bucket of 5 that said burst 4294967301
    assert.throws(() => new TokenBucket({ burst: 2 ** 32 + 5 }), named('burst', /4294967295/));
    assert.throws(() => new TokenBucket({ burst: 5, tokens: 2 ** 32 + 3 }), named('tokens'));
    assert.equal(new TokenBucket({ burst: 2 ** 32 - 1 }).burst, 2 ** 32 - 1);
  });

  it('TokenBucket period is a number of ms of at least 1; Infinity never refills (Python per=math.inf)', async () => {
    const once = new TokenBucket({ burst: 2, period: Infinity });
    assert.equal(once.tryAcquire(2, 0).result, 'granted');
    assert.equal(once.tryAcquire(1, 1e12).result, 'denied', 'nothing came back in 30 years');
    // take() waits at most setTimeout's limit at a time: a longer delay
    // would fire after 1 ms, over and over (a spin with a warning each time)
    const ac = new AbortController();
    const warnings = [];
    const onWarning = (w) => warnings.push(w.name);
    process.on('warning', onWarning);
    const waiting = once.take(1, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await assert.rejects(waiting, /stop/);
    process.off('warning', onWarning);
    assert.deepEqual(warnings, []);
    assert.throws(() => new TokenBucket({ burst: 5, period: NaN }), named('period'));
    assert.throws(() => new TokenBucket({ burst: 5, period: -1000 }), named('period'));
    assert.throws(() => new TokenBucket({ burst: 5, period: '1000' }), named('period', /'1000'/));
    assert.throws(() => new TokenBucket({ burst: 5, period: 0.5 }), named('period'));
  });

  it('TokenBucket takes whole token counts only', () => {
    const b = new TokenBucket({ burst: 5, period: 1000 });
    // NaN took nothing and answered true; 1.5 took one; -1 answered false
    for (const n of [NaN, 1.5, -1, '2', 2 ** 32 + 1, null]) {
      assert.throws(() => b.tryTake(n), named('n'), String(n));
      assert.throws(() => b.tryAcquire(n, 0), named('n'), String(n));
      assert.throws(() => b.refund(n, 0), named('n'), String(n));
    }
    assert.equal(b.available, 5, 'nothing was taken by the refused calls');
    return assert.rejects(b.take(NaN), named('n'));
  });

  it('Bulkhead limit and reserves above 2^32 - 1 are refused, not wrapped', () => {
    assert.throws(() => new Bulkhead({ limit: 2 ** 32 + 2 }), named('limit'));
    assert.throws(() => new Bulkhead({ limit: 4, reserveCritical: 2 ** 32 }), named('reserveCritical'));
    assert.throws(() => new Bulkhead({ limit: NaN }), named('limit'));
    assert.throws(() => new Bulkhead({ limit: 2, lease: Infinity }), named('lease'));
    assert.throws(() => new Bulkhead({ limit: 2, lease: '5000' }), named('lease', /'5000'/));
    assert.throws(() => new Bulkhead({ limit: 2 }).tryAcquire('urgent'), named('priority', /'urgent'/));
  });

  it('RedisStore timeout from an environment variable is refused with its name', () => {
    assert.throws(() => new RedisStore('redis://127.0.0.1:1', { timeout: '50' }), named('timeout'));
    assert.throws(() => new RedisStore('redis://127.0.0.1:1', { timeout: Infinity }), named('timeout'));
    assert.throws(() => new RedisStore('redis://127.0.0.1:1', null), named('options'));
  });

  it('options that are not an object are refused', () => {
    assert.throws(() => new TokenBucket(5), named('options'));
    assert.throws(() => new Bulkhead('4'), named('options'));
    assert.throws(() => new HostStore('fusewire-strict-test', 4096), named('options'));
  });
});

describe('waits longer than setTimeout can hold', () => {
  it('retry() sleeps a delay above 2^31 - 1 ms instead of retrying after 1 ms', async () => {
    const { retry } = require('..');
    const ac = new AbortController();
    let calls = 0;
    const warnings = [];
    const onWarning = (w) => warnings.push(w.name);
    process.on('warning', onWarning);
    const running = retry(() => { calls++; throw new Error('down'); },
      { maxAttempts: 3, backoff: { kind: 'constant', base: 3e9 }, signal: ac.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    ac.abort(new Error('stop'));
    await assert.rejects(running, /stop/);
    process.off('warning', onWarning);
    assert.equal(calls, 1, 'the second attempt waits 3e9 ms (about 35 days)');
    assert.deepEqual(warnings, []);
  });
});

describe('retry() options', () => {
  const { retry, RetrySchedule } = require('..');
  it('a misspelled option is refused (maxAttemps silently retried 3 times)', async () => {
    let calls = 0;
    await assert.rejects(retry(() => { calls++; throw new Error('down'); }, { maxAttemps: 10 }),
      named('maxAttemps', /did you mean maxAttempts\?/));
    assert.equal(calls, 0, 'refused before the first attempt');
    assert.throws(() => new RetrySchedule({ backoff: { bse: 10 } }), named('bse', /did you mean base\?/));
    assert.throws(() => retry.delays({ onRetyr: () => {} }), named('onRetyr', /did you mean onRetry\?/));
    assert.throws(() => new RetrySchedule('3'), named('options'));
  });
});

describe('config errors the native side finds are typed too, in the options\' words', () => {
  it('Bulkhead reserves, TokenBucket zero counts, retry zero attempts, the core Breaker', () => {
    const typed = (field, problem) => (e) => named(field)(e) && e.problem === problem;
    assert.throws(() => new Bulkhead({ limit: 4, reserveCritical: 2, reserveNormal: 2 }), typed('reserveNormal', 'inconsistent'));
    assert.throws(() => new TokenBucket({ burst: 0 }), typed('burst', 'zero'));
    assert.throws(() => new TokenBucket({ burst: 1, period: 0 }), typed('period', 'zero'));
    assert.throws(() => new TokenBucket({ burst: 1 }).setRate(0), typed('tokens', 'zero'));
    const { RetrySchedule } = require('..');
    assert.throws(() => new RetrySchedule({ maxAttempts: 0 }), typed('maxAttempts', 'zero'));
    assert.throws(() => new RetrySchedule({ backoff: { base: 100, max: 10 } }), typed('max', 'inconsistent'));
    // the core's min_calls was reported as is; the option is minCalls
    assert.throws(() => new Breaker({ window: { count: 10 }, minCalls: 11 }), (e) => named('minCalls')(e));
  });
});
