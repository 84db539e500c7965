'use strict';

// opossum as people configure and stop it (issue #14): timeouts from
// environment variables and out-of-range numbers, shutdown with calls in
// flight, options changed at run time, bad options. The same cases run on
// opossum 10 and fusewire where the behaviour is opossum's; fusewire-only
// cases say so.
//
// Timers are real (opossum hands its options straight to setTimeout, whose
// coercion node:test's mock timers do not reproduce), but no assertion
// depends on how fast the machine is: a spinning timer is caught by counting
// the timers armed, not by measuring time.

const { describe, it, afterEach } = require('node:test');
const assert = require('node:assert/strict');

const IMPLS = [
  ['opossum', require('opossum')],
  ['fusewire', require('..')]
];
const TIMER_MAX = 2 ** 31 - 1;

const hang = () => new Promise(() => {});
const ok = async x => x;
const QUIET = { enableSnapshots: false };

// Wraps setTimeout to record each delay as given, then lets it run.
function countArms () {
  const real = global.setTimeout;
  const arms = [];
  global.setTimeout = function (fn, delay, ...rest) {
    arms.push(delay);
    return real.call(this, fn, delay, ...rest);
  };
  arms.restore = () => { global.setTimeout = real; };
  return arms;
}

// Waits `ms` on a timer armed before the counting starts.
const pause = (ms) => new Promise(resolve => setTimeout(resolve, ms));
// setTimeout's own reading of a delay.
const asNode = d => { const n = d * 1; return n >= 1 && n <= TIMER_MAX ? n : 1; };

let restore = null;
afterEach(() => { if (restore) restore(); restore = null; });

for (const [impl, CircuitBreaker] of IMPLS) {
  describe(`${impl}: timeouts as setTimeout reads them`, () => {
    it('a numeric string timeout (an env var) times out at that many ms', async () => {
      const b = new CircuitBreaker(hang, { ...QUIET, timeout: '40' });
      const arms = countArms();
      restore = arms.restore;
      const t0 = Date.now();
      const err = await b.fire().catch(e => e);
      assert.equal(err.code, 'ETIMEDOUT');
      assert.ok(Date.now() - t0 >= 39, `timed out after ${Date.now() - t0} ms`);
      assert.ok(arms.map(asNode).includes(40), `armed ${arms}`);
      b.shutdown();
    });

    for (const [name, timeout] of [['Infinity', Infinity], ['1e300', 1e300], ['{}', {}], ['-5', -5]]) {
      it(`timeout ${name} times out after 1 ms, as setTimeout clamps it, without re-arming`, async () => {
        const b = new CircuitBreaker(hang, { ...QUIET, timeout, resetTimeout: 60000 });
        const arms = countArms();
        restore = arms.restore;
        const err = await b.fire().catch(e => e);
        assert.equal(err.code, 'ETIMEDOUT');
        await pause(37);
        // The call's timer, armed again at most once or twice if it fired
        // before Date.now() reached the deadline; a spinning timer arms one
        // per millisecond. (37: the pause; 60000: the breaker opened.)
        const calls = arms.filter(d => d !== 37 && d !== 60000);
        assert.ok(calls.length <= 3, `${calls.length} timers armed: ${calls.slice(0, 5)}`);
        b.shutdown();
      });
    }

    for (const [name, resetTimeout] of [['Infinity', Infinity], ['1e10', 1e10], ['"50"', '50']]) {
      it(`resetTimeout ${name} half-opens as setTimeout reads it, without re-arming`, async () => {
        const b = new CircuitBreaker(ok, { ...QUIET, resetTimeout });
        const arms = countArms();
        restore = arms.restore;
        const t0 = Date.now();
        const halfOpen = new Promise(resolve => b.once('halfOpen', resolve));
        const alive = setInterval(() => {}, 1000); // the reset timer is unref'd
        b.open();
        await halfOpen;
        clearInterval(alive);
        const waited = Date.now() - t0;
        assert.ok(waited >= asNode(resetTimeout) - 1, `half-open after ${waited} ms`);
        await pause(37);
        const resets = arms.filter(d => d !== 37 && d !== 1000);
        assert.ok(resets.length <= 2, `${resets.length} timers armed while open: ${resets.slice(0, 5)}`);
        b.shutdown();
      });
    }
  });

  describe(`${impl}: shutdown() with calls in flight`, () => {
    it('a call to a hung upstream still times out after shutdown()', async () => {
      const b = new CircuitBreaker(hang, { ...QUIET, timeout: 30 });
      const call = b.fire().catch(e => e);
      b.shutdown();
      const err = await call;
      assert.equal(err.code, 'ETIMEDOUT');
      assert.equal((await b.fire().catch(e => e)).code, 'ESHUTDOWN');
    });

    // opossum's test/volume-threshold-test.js, 'Has a volume threshold
    // before tripping': the third failure is in flight at shutdown().
    it('a failure in flight at shutdown() that reaches the volume threshold opens it', async () => {
      const passFail = x => new Promise((resolve, reject) =>
        setTimeout(() => (x > 0 ? resolve(x) : reject(new Error(`${x} is < 0`))), 10));
      const b = new CircuitBreaker(passFail, { ...QUIET, errorThresholdPercentage: 1, resetTimeout: 100, volumeThreshold: 3 });
      await b.fire(-1).catch(() => {});
      await b.fire(-1).catch(() => {});
      assert.ok(!b.opened);
      const third = b.fire(-1).catch(e => e);
      b.shutdown();
      assert.equal((await third).message, '-1 is < 0');
      assert.ok(b.opened, 'opens after the volume threshold');
      assert.ok(!b.isShutdown);
    });
  });

  describe(`${impl}: options changed at run time`, () => {
    it('breaker.options.timeout lowered applies to the next call', async () => {
      const b = new CircuitBreaker(hang, { ...QUIET, timeout: 3000 });
      b.fire().catch(() => {}); // a pending call under the 3000 ms timer
      await ok();
      b.options.timeout = 30;
      const t0 = Date.now();
      const err = await Promise.race([b.fire().catch(e => e), pause(1500).then(() => 'still pending')]);
      assert.equal(err.code, 'ETIMEDOUT', `${err} after ${Date.now() - t0} ms`);
      b.shutdown();
    });

    it('assigning options.volumeThreshold changes nothing: it is read at construction', async () => {
      const b = new CircuitBreaker(async () => { throw new Error('x'); }, { ...QUIET, volumeThreshold: 5 });
      b.options.volumeThreshold = 0;
      await b.fire().catch(() => {});
      assert.ok(!b.opened);
      assert.equal(b.volumeThreshold, 5);
      b.shutdown();
    });

    it('assigning options.errorThresholdPercentage applies to the next failure', async () => {
      const b = new CircuitBreaker(async () => { throw new Error('x'); }, { ...QUIET, errorThresholdPercentage: 100 });
      await b.fire().catch(() => {});
      assert.ok(!b.opened);
      b.options.errorThresholdPercentage = '10';
      await b.fire().catch(() => {});
      assert.ok(b.opened);
      b.shutdown();
    });

    it('after the breaker went idle, a lowered timeout still applies', async () => {
      const b = new CircuitBreaker(ok, { ...QUIET, timeout: 3000 });
      await b.fire(1);
      b.action = hang;
      b.options.timeout = 30;
      const err = await Promise.race([b.fire().catch(e => e), pause(1500).then(() => 'still pending')]);
      assert.equal(err.code, 'ETIMEDOUT');
      b.shutdown();
    });
  });

  describe(`${impl}: window options as opossum's arithmetic reads them`, () => {
    it('numeric strings size the window', () => {
      const b = new CircuitBreaker(ok, { ...QUIET, rollingCountBuckets: '20', rollingCountTimeout: '2000' });
      assert.equal(b.status.window.length, 20);
      b.shutdown();
    });

    it('more than 64 buckets are fine', async () => {
      const b = new CircuitBreaker(ok, { ...QUIET, rollingCountBuckets: 100, rollingCountTimeout: 100000 });
      assert.equal(b.status.window.length, 100);
      await b.fire(1);
      assert.equal(b.stats.successes, 1);
      b.shutdown();
    });

    it('a negative or fractional bucket count is a RangeError', () => {
      for (const rollingCountBuckets of [-1, 1.5]) {
        assert.throws(() => new CircuitBreaker(ok, { ...QUIET, rollingCountBuckets }), RangeError);
      }
    });

    it('a numeric string errorThresholdPercentage compares as its number', async () => {
      const b = new CircuitBreaker(async () => { throw new Error('x'); },
        { ...QUIET, errorThresholdPercentage: '60' });
      await b.fire().catch(() => {});
      assert.ok(b.opened); // 100% > 60
      b.shutdown();
    });
  });
}

describe('fusewire: bad options name the opossum option', () => {
  const CircuitBreaker = require('..');
  const cases = [
    [{ rollingCountTimeout: 'ten seconds' }, TypeError, 'rollingCountTimeout'],
    [{ rollingCountTimeout: {} }, TypeError, 'rollingCountTimeout'],
    [{ rollingCountTimeout: -5 }, RangeError, 'rollingCountTimeout'],
    [{ rollingCountTimeout: Infinity }, RangeError, 'rollingCountTimeout'],
    [{ rollingCountBuckets: 'many' }, TypeError, 'rollingCountBuckets'],
    [{ rollingCountBuckets: -1 }, RangeError, 'rollingCountBuckets'],
    [{ rollingCountBuckets: 1.5 }, RangeError, 'rollingCountBuckets'],
    [{ rollingCountBuckets: 1e9 }, RangeError, 'rollingCountBuckets'],
    [{ errorThresholdPercentage: 'half' }, TypeError, 'errorThresholdPercentage'],
    [{ errorThresholdPercentage: {} }, TypeError, 'errorThresholdPercentage'],
    [{ errorThresholdPercentage: '' }, TypeError, 'errorThresholdPercentage']
  ];
  for (const [options, Kind, field] of cases) {
    it(`${JSON.stringify(options)} is a ${Kind.name} for ${field}`, () => {
      assert.throws(() => new CircuitBreaker(ok, { ...QUIET, ...options }), e =>
        e instanceof Kind && e.field === field && e.message.includes(`options.${field} `) &&
        !/4294967295|napi|rust|span|contradicts/.test(e.message));
    });
  }

  it('configure() refuses to resize the window instead of ignoring it', () => {
    const b = new CircuitBreaker(ok, QUIET);
    assert.throws(() => b.configure({ rollingCountBuckets: 100 }), { name: 'TypeError', field: 'rollingCountBuckets' });
    assert.throws(() => b.configure({ errorThresholdPercentage: 'x' }), { name: 'TypeError', field: 'errorThresholdPercentage' });
    b.configure({ rollingCountBuckets: 10 }); // unchanged: fine
    b.shutdown();
  });

  it('configure({ timeout }) lowered applies to the next call', async () => {
    const b = new CircuitBreaker(hang, { ...QUIET, timeout: 3000 });
    b.fire().catch(() => {});
    b.configure({ timeout: 30 });
    const err = await Promise.race([b.fire().catch(e => e), pause(1500).then(() => 'still pending')]);
    assert.equal(err.code, 'ETIMEDOUT');
    b.shutdown();
  });

  it('never arms a timer past setTimeout\'s limit, and warns once like setTimeout', async () => {
    const warnings = [];
    const onWarning = w => warnings.push(w);
    process.on('warning', onWarning);
    const b = new CircuitBreaker(hang, { ...QUIET, timeout: 1e300, resetTimeout: Infinity });
    const arms = countArms();
    restore = arms.restore;
    for (let i = 0; i < 3; i++) await b.fire().catch(() => {});
    assert.ok(arms.every(d => d >= 1 && d <= TIMER_MAX), `armed ${arms}`);
    await pause(5);
    process.off('warning', onWarning);
    const overflow = warnings.filter(w => w.name === 'TimeoutOverflowWarning');
    assert.equal(overflow.filter(w => /options\.timeout/.test(w.message)).length, 1);
    b.shutdown();
  });
});
