'use strict';

// chaos(): seeded, replayable injection around any async function, its
// switch, its options' errors, and the CircuitBreaker extra. Delays run on
// node:test's mock timers (no sleeps).

const { describe, it, mock } = require('node:test');
const assert = require('node:assert/strict');
const CircuitBreaker = require('..');
const { chaos, Chaos, ChaosError } = CircuitBreaker;

const double = async (x) => x * 2;

// What each call gave: its value, or its error's code.
async function run (fn, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    try { out.push(await fn(i)); } catch (e) { out.push(e.code ?? e.message); }
  }
  return out;
}

describe('chaos wrapper', () => {
  it('injects faults at the configured rate, replays exactly from the seed', async () => {
    const options = { faultRate: 30, seed: 1234, enabled: true };
    const a = await run(chaos(double, options), 200);
    const b = await run(chaos(double, options), 200);
    assert.deepEqual(a, b, 'same seed, same faults');
    const faults = a.filter((v) => v === 'ECHAOS').length;
    assert.ok(faults > 35 && faults < 85, `about 30% of 200, got ${faults}`);
    // Passed calls ran the action with their arguments.
    a.forEach((v, i) => { if (v !== 'ECHAOS') assert.equal(v, i * 2); });
    const other = await run(chaos(double, { ...options, seed: 1235 }), 200);
    assert.notDeepEqual(a, other, 'another seed, other faults');
  });

  it('follows the core: the wrapper and a Chaos with the same seed agree call by call', async () => {
    const o = { faultRate: 20, substituteRate: 30, seed: 99n, enabled: true };
    const wrapped = chaos(double, { ...o, substitute: 'canned' });
    const policy = new Chaos(o);
    for (let i = 0; i < 100; i++) {
      const want = policy.inject().outcome;
      let got;
      try { got = await wrapped(i) === 'canned' ? 'substitute' : 'pass'; } catch (e) { got = 'fault'; }
      assert.equal(got, want, `call ${i}`);
    }
    assert.equal(wrapped.calls, 100);
    assert.deepEqual(wrapped.decide(7), policy.decide(7));
  });

  it('draws the core\'s decide(index) in order across batches, through off and on', () => {
    const o = { faultRate: 30, latencyRate: 30, latencyMax: 100, substituteRate: 30, behaviorRate: 30, seed: 77, enabled: true };
    const c = new Chaos(o);
    const ref = new Chaos(o);
    const got = [];
    for (let i = 0; i < 300; i++) {
      if (i === 100) c.disable();
      if (i === 110) c.enable();
      got.push(c.inject());
    }
    assert.equal(c.calls, 290, 'the ten calls while off were not counted');
    const want = [];
    for (let i = 0, k = 0; i < 300; i++) want.push(i >= 100 && i < 110 ? { delay: 0, outcome: 'pass', behavior: false } : ref.decide(k++));
    assert.deepEqual(got, want);
    c.disable();
    assert.deepEqual(c.decide(3), { delay: 0, outcome: 'pass', behavior: false }, 'decide() while off injects nothing');
  });

  it('configure() changes rates at run time, keeps the switch and the index; a bad change changes nothing', async () => {
    const w = chaos(double, { faultRate: 0, seed: 5, enabled: true });
    for (let i = 0; i < 10; i++) assert.equal(await w(i), i * 2);
    w.configure({ faultRate: 100 });
    await assert.rejects(w(1), { code: 'ECHAOS' }, 'the drawn batch was dropped: the new rate applies at once');
    assert.equal(w.calls, 11);
    assert.equal(w.enabled, true);
    assert.deepEqual(w.options, { faultRate: 100, seed: 5 });
    assert.throws(() => w.configure({ faultRate: 101 }), (e) => e instanceof RangeError && e.field === 'faultRate');
    assert.throws(() => w.configure({ latencyRate: 10 }), (e) => e instanceof RangeError && e.field === 'latencyMax' && e.problem === 'required');
    assert.throws(() => w.configure({ enabled: false }), (e) => e instanceof TypeError && e.field === 'enabled');
    assert.deepEqual(w.options, { faultRate: 100, seed: 5 }, 'unchanged');
    await assert.rejects(w(2), { code: 'ECHAOS' });
    // The same config from scratch gives the same decision for that index.
    assert.deepEqual(w.decide(11), new Chaos({ faultRate: 100, seed: 5, enabled: true }).decide(11));
  });

  it('fault: rejects with a ChaosError, the given Error, or what the error function builds', async () => {
    await assert.rejects(chaos(double, { faultRate: 100, enabled: true })(1), (e) => e instanceof ChaosError && e.code === 'ECHAOS');
    const mine = new Error('mine');
    await assert.rejects(chaos(double, { faultRate: 100, enabled: true, error: mine })(1), (e) => e === mine);
    await assert.rejects(chaos(double, { faultRate: 100, enabled: true, error: (x) => new Error(`for ${x}`) })(5), /for 5/);
  });

  it('substitute resolves with the value (or the function of the arguments) without calling', async () => {
    let called = 0;
    const action = async () => { called++; return 'real'; };
    assert.equal(await chaos(action, { substituteRate: 100, substitute: 'fake', enabled: true })(), 'fake');
    assert.equal(await chaos(action, { substituteRate: 100, substitute: (x) => `fake ${x}`, enabled: true })('a'), 'fake a');
    assert.equal(called, 0);
  });

  it('behavior runs the hook with the arguments before the call', async () => {
    const seen = [];
    const action = async (x) => { seen.push(`call ${x}`); return x; };
    const w = chaos(action, { behaviorRate: 100, behavior: async (x) => { seen.push(`hook ${x}`); }, enabled: true });
    assert.equal(await w(3), 3);
    assert.deepEqual(seen, ['hook 3', 'call 3']);
  });

  it('latency delays the call by the core\'s delay (mock timers)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const policy = new Chaos({ latencyRate: 100, latencyMin: 100, latencyMax: 200, seed: 5, enabled: true });
    const delay = policy.inject().delay;
    assert.ok(delay >= 100 && delay <= 200);
    let done = false;
    const w = chaos(async () => 'late', { latencyRate: 100, latencyMin: 100, latencyMax: 200, seed: 5, enabled: true });
    const p = w().then((v) => { done = v; });
    t.mock.timers.tick(delay - 1);
    await Promise.resolve();
    assert.equal(done, false, 'not before the delay');
    t.mock.timers.tick(1);
    await p;
    assert.equal(done, 'late');
  });

  it('is off by default and can be switched at run time; off keeps the sequence', async () => {
    const w = chaos(double, { faultRate: 100, seed: 3 });
    assert.equal(w.enabled, false);
    assert.equal(await w(1), 2);
    assert.equal(w.calls, 0, 'off: no decision counted');
    w.enable();
    await assert.rejects(w(1), { code: 'ECHAOS' });
    w.disable();
    assert.equal(await w(2), 4);
    assert.equal(w.calls, 1);
  });

  it('off calls the action directly (its result, sync or not, unchanged)', () => {
    const w = chaos((x) => x + 1, { faultRate: 100 });
    assert.equal(w(1), 2);
  });

  it('keeps `this` for methods', async () => {
    const obj = { k: 7, get: chaos(function () { return this.k; }, { latencyRate: 0 }) };
    assert.equal(await obj.get(), 7);
  });

  it('seeds from crypto entropy by default (a safe integer, different each time)', () => {
    const seeds = new Set(Array.from({ length: 8 }, () => chaos(double).seed));
    assert.ok(seeds.size > 1);
    for (const s of seeds) assert.ok(Number.isSafeInteger(s) && s >= 0);
    assert.equal(chaos(double, { seed: 2n ** 64n - 1n }).seed, 2n ** 64n - 1n);
  });

  it('bad options: a TypeError or RangeError naming the option', () => {
    const cases = [
      [{ faultRate: 101 }, RangeError, 'faultRate', 'outOfRange'],
      [{ latencyRate: -1 }, RangeError, 'latencyRate', 'outOfRange'],
      [{ behaviorRate: Infinity }, RangeError, 'behaviorRate', 'outOfRange'],
      [{ faultRate: NaN }, TypeError, 'faultRate', 'notANumber'],
      [{ faultRate: '10' }, TypeError, 'faultRate'],
      [{ latencyRate: 10 }, RangeError, 'latencyMax', 'required'],
      [{ latencyMin: 20, latencyMax: 10 }, RangeError, 'latencyMax', 'inconsistent'],
      [{ latencyMax: 1.5 }, RangeError, 'latencyMax'],
      [{ latencyMax: 2 ** 31 }, RangeError, 'latencyMax'],
      [{ latencyMin: -5 }, RangeError, 'latencyMin'],
      [{ latencyMax: '100' }, TypeError, 'latencyMax'],
      [{ seed: -1 }, RangeError, 'seed'],
      [{ seed: 2 ** 53 }, RangeError, 'seed'],
      [{ seed: 2n ** 64n }, RangeError, 'seed'],
      [{ seed: '42' }, TypeError, 'seed'],
      [{ enabled: 'yes' }, TypeError, 'enabled'],
      [{ fualtRate: 10 }, TypeError, 'fualtRate'],
      [{ substituteRate: 10 }, TypeError, 'substitute'],
      [{ behaviorRate: 10 }, TypeError, 'behavior'],
      [{ behaviorRate: 10, behavior: 'x' }, TypeError, 'behavior'],
      [{ error: 'boom' }, TypeError, 'error']
    ];
    for (const [o, Kind, field, problem] of cases) {
      assert.throws(() => chaos(double, o), (e) => {
        assert.ok(e instanceof Kind, `${JSON.stringify(o, (k, v) => typeof v === 'bigint' ? `${v}n` : v)}: ${e}`);
        assert.equal(e.field, field);
        if (problem) assert.equal(e.problem, problem);
        assert.match(e.message, new RegExp(field));
        return true;
      });
    }
    assert.throws(() => chaos('not a function'), TypeError);
    assert.throws(() => chaos(double, null), TypeError);
    assert.throws(() => new Chaos({}).decide(-1), RangeError);
  });
});

describe('CircuitBreaker chaos extra', () => {
  it('the breaker counts injected faults and opens; disabling chaos lets it close again', async () => {
    const now = { t: 0 };
    mock.method(Date, 'now', () => now.t);
    try {
      const b = new CircuitBreaker(async () => 'ok', {
        errorThresholdPercentage: 50,
        volumeThreshold: 4,
        resetTimeout: 1000,
        enableSnapshots: false,
        chaos: { faultRate: 100, seed: 1, enabled: true }
      });
      const opened = [];
      b.on('open', () => opened.push(now.t));
      for (let i = 0; i < 4; i++) await assert.rejects(b.fire(), { code: 'ECHAOS' });
      assert.equal(b.opened, true);
      assert.equal(opened.length, 1);
      assert.equal(b.stats.failures, 4);
      b.chaos.disable();
      assert.equal(b.chaos.enabled, false);
      b.close();
      assert.equal(await b.fire(), 'ok');
      b.shutdown();
    } finally {
      mock.restoreAll();
    }
  });

  it('names a bad chaos option as options.chaos.<name>', () => {
    assert.throws(() => new CircuitBreaker(double, { chaos: { faultRate: 200 } }),
      (e) => e instanceof RangeError && e.field === 'chaos.faultRate' && /options\.chaos\.faultRate/.test(e.message));
  });
});
